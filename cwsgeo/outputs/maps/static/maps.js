/* cwsgeo map runtime: the JavaScript shared by every cwsgeo page. The page's own script calls
   these functions with data that Python has serialised and escaped. */

/* A legend box as a Leaflet control, shown while one of `layers` is on the map (or always). */
function cwsLegend(map, position, cssClass, html, layers) {
    var ctl = L.control({position: position}), shown = false;
    ctl.onAdd = function () {
        var div = L.DomUtil.create('div', cssClass);
        div.innerHTML = html;
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
    };
    function sync() {
        var on = !layers.length || layers.some(function (l) { return map.hasLayer(l); });
        if (on && !shown) { ctl.addTo(map); shown = true; }
        else if (!on && shown) { ctl.remove(); shown = false; }
    }
    layers.forEach(function (l) { l.on('add remove', sync); });
    sync();
    return ctl;
}

/* Polygons or lines from compact GeoJSON. Feature properties: `tip` (escaped tooltip HTML),
   `fc` / `lc` (fill / line colour) or `c` (class indices; colour `palette[c[index]]`). */
function cwsGeoJson(data, o) {
    var base = o.style, pal = o.palette, idx = o.index, nodata = o.nodata;
    return L.geoJSON(data, {
        pane: o.pane, interactive: o.interactive,
        style: function (f) {
            var s = Object.assign({}, base), p = f.properties || {};
            if (pal.length) {
                var c = p.c ? p.c[idx] : -1;
                s.fillColor = c >= 0 ? pal[c] : nodata;
            }
            if (p.fc) { s.fillColor = p.fc; }
            if (p.lc) { s.color = p.lc; }
            return s;
        },
        onEachFeature: function (f, layer) {
            if (f.properties && f.properties.tip) {
                layer.bindTooltip(f.properties.tip, {sticky: true});
            }
        }
    });
}

/* Mouse handling shared by the point layers of a map (window.cwsPoints).
   A canvas takes every mouse event over the whole map, so the points' pane lets events
   through (pointer-events: none) except while the mouse is over a point: layers below keep
   their tooltips, and Leaflet's own canvas hit-testing (tooltips, clicks) works on the
   points. */
function cwsPointsRuntime(map) {
    var pane = map.getPane('cws-points'), entries = [], last = null, queued = false;
    function hit(lp) {
        for (var g = 0; g < entries.length; g++) {
            var en = entries[g];
            if (!map.hasLayer(en.group)) { continue; }
            for (var i = 0; i < en.markers.length; i++) {
                var m = en.markers[i];
                if (map.hasLayer(m) && lp.distanceTo(map.latLngToLayerPoint(m.getLatLng()))
                        <= m.options.radius + 1) { return {group: en.group, marker: m}; }
            }
        }
        return null;
    }
    map.on('mousemove', function (e) {
        last = e;
        if (queued) { return; }
        queued = true;
        requestAnimationFrame(function () {
            queued = false;
            var on = !!hit(last.layerPoint), was = pane.style.pointerEvents === 'auto';
            pane.style.pointerEvents = on ? 'auto' : 'none';
            var canvas = pane.querySelector('canvas'), oe = last.originalEvent;
            if (on && !was && canvas && oe) {  // let Leaflet's canvas see this position
                canvas.dispatchEvent(new MouseEvent('mousemove', {
                    clientX: oe.clientX, clientY: oe.clientY, bubbles: true}));
            }
        });
    });
    map.on('click', function (e) {  // touch screens: a tap on a point shows its tooltip
        if (pane.style.pointerEvents === 'auto') { return; }
        var h = hit(e.layerPoint);
        if (h) { h.group.fire('click', {layer: h.marker, latlng: h.marker.getLatLng()}); }
    });
    return {add: function (group, markers) {
        entries.push({group: group, markers: markers});
    }};
}

/* Last script of a page: `#all-layers` shows every layer; `data-cws-ready` once drawn. */
function cwsReady(map, overlays) {
    window.cwsMap = map;
    window.cwsScriptsMs = performance.now();
    if (window.location.hash === '#all-layers') {
        if (overlays) {
            Object.keys(overlays).forEach(function (k) {
                if (!map.hasLayer(overlays[k])) { map.addLayer(overlays[k]); }
            });
        }
        (window.cwsShowAll || []).forEach(function (f) { f(); });
    }
    map.whenReady(function () {
        requestAnimationFrame(function () { requestAnimationFrame(function () {
            window.cwsReadyMs = performance.now();
            document.documentElement.setAttribute('data-cws-ready',
                                                  window.cwsReadyMs.toFixed(1));
        }); });
    });
}
