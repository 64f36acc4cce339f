/* cwsgeo map runtime: the JavaScript shared by every cwsgeo page. The page's own script calls
   these functions with data that Python has serialised and escaped. */

/* The one legend panel of a map (a Leaflet control, created with the first legend): every
   legend is a section of it, so legends never stack over other controls. Sections are kept
   in `order` (lower first); the panel hides itself while it has no section. */
function cwsLegendPanel(map, position) {
    if (map._cwsLegendPanel) { return map._cwsLegendPanel; }
    var ctl = L.control({position: position || 'bottomright'}), div;
    ctl.onAdd = function () {
        div = L.DomUtil.create('div', 'cws-legend-panel');
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
    };
    ctl.addTo(map);
    function sync() { div.style.display = div.children.length ? '' : 'none'; }
    ctl.show = function (section, order) {
        section.cwsOrder = order || 0;
        var next = null;
        for (var i = 0; i < div.children.length; i++) {
            if (div.children[i].cwsOrder > section.cwsOrder) { next = div.children[i]; break; }
        }
        div.insertBefore(section, next);
        sync();
    };
    ctl.hide = function (section) {
        if (section.parentNode === div) { div.removeChild(section); }
        sync();
    };
    sync();
    map._cwsLegendPanel = ctl;
    return ctl;
}

/* A legend: a section of the legend panel, shown while one of `layers` is on the map (or
   always). */
function cwsLegend(map, position, cssClass, html, layers, order) {
    var panel = cwsLegendPanel(map, position), shown = false;
    var div = L.DomUtil.create('div', cssClass);
    div.innerHTML = html;
    function sync() {
        var on = !layers.length || layers.some(function (l) { return map.hasLayer(l); });
        if (on && !shown) { panel.show(div, order); shown = true; }
        else if (!on && shown) { panel.hide(div); shown = false; }
    }
    layers.forEach(function (l) { l.on('add remove', sync); });
    sync();
    return div;
}

/* A point marker: a circle, or a square (`shape: 'square'`, e.g. transit stops) drawn by the
   canvas renderer; hit-testing stays the circle's. */
var CwsSquare = L.CircleMarker.extend({
    _updatePath: function () {
        var r = this._renderer;
        if (!r._ctx) { r._updateCircle(this); return; }  // SVG: a circle
        if (!r._drawing || this._empty()) { return; }
        var p = this._point, ctx = r._ctx, s = Math.max(Math.round(this._radius), 1);
        ctx.beginPath();
        ctx.rect(p.x - s, p.y - s, 2 * s, 2 * s);
        r._fillStroke(ctx, this);
    }
});
function cwsPointMarker(latlng, options, shape) {
    return shape === 'square' ? new CwsSquare(latlng, options) : L.circleMarker(latlng, options);
}

/* Delta-encoded lines (Python's `display.street_lines`: {scale, n, d}) as one GeoJSON
   MultiLineString. */
function cwsDecodeLines(data) {
    var lines = [], d = data.d, s = data.scale, lat = 0, lon = 0, j = 0;
    data.n.forEach(function (n) {
        var line = new Array(n);
        for (var k = 0; k < n; k++, j += 2) {
            lat += d[j];
            lon += d[j + 1];
            line[k] = [lon / s, lat / s];
        }
        lines.push(line);
    });
    return {type: 'Feature', properties: {},
            geometry: {type: 'MultiLineString', coordinates: lines}};
}

/* Polygons or lines from compact GeoJSON (or delta-encoded lines, see cwsDecodeLines).
   Feature properties: `tip` (escaped tooltip HTML), `fc` / `lc` (fill / line colour) or `c`
   (class indices; colour `palette[c[index]]`). */
function cwsGeoJson(data, o) {
    var base = o.style, pal = o.palette, idx = o.index, nodata = o.nodata;
    return L.geoJSON(data.d ? cwsDecodeLines(data) : data, {
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

/* Bytes of a base64 string (little-endian arrays from Python's `text._b64`). */
function cwsBytes(b64) {
    var s = atob(b64), a = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) { a[i] = s.charCodeAt(i); }
    return a;
}

/* Integers of a base64 string: `width` 1 (uint8), 2 (uint16) or 4 (int32). */
function cwsInts(b64, width) {
    var b = cwsBytes(b64).buffer;
    return width === 4 ? new Int32Array(b) : width === 2 ? new Uint16Array(b) : new Uint8Array(b);
}

/* Compact outlines (Python's `radial_outlines`): each a polygon of `directions` vertices
   around its centre, coloured by class (`o.classes`: base64 uint8 class of each outline,
   `o.palette`: colour of each class). The outlines of a class are filled opaque on a canvas
   of their own, made translucent as a whole (`o.style.fillOpacity`): overlapping outlines
   show as one area, however many they are, and draw fast (rings in small batches). */
function cwsOutlines(data, o) {
    var lat = cwsInts(data.lat, 4), lon = cwsInts(data.lon, 4), r = cwsInts(data.r, 1);
    var cls = cwsInts(o.classes, 1);
    var d = data.directions, rings = o.palette.map(function () { return []; });
    var cos = [], sin = [], ky = data.unit / 111319.5;  // degrees of latitude per step
    for (var k = 0; k < d; k++) {
        cos.push(Math.cos(2 * Math.PI * k / d));
        sin.push(Math.sin(2 * Math.PI * k / d));
    }
    for (var i = 0; i < data.n; i++) {
        var la = lat[i] / 1e6, lo = lon[i] / 1e6, kx = ky / Math.cos(la * Math.PI / 180);
        var ring = new Array(d);
        for (k = 0; k < d; k++) {
            ring[k] = new L.LatLng(la + r[i * d + k] * ky * sin[k],
                                   lo + r[i * d + k] * kx * cos[k]);
        }
        rings[cls[i]].push([ring]);
    }
    var parts = [], opacity = o.style.fillOpacity;
    rings.forEach(function (rs, c) {
        if (!rs.length) { return; }
        var renderer = L.canvas({pane: o.pane});
        renderer.on('add', function () { renderer._container.style.opacity = opacity; });
        for (var j = 0; j < rs.length; j += 64) {
            parts.push(L.polygon(rs.slice(j, j + 64), Object.assign({}, o.style, {
                renderer: renderer, stroke: false, fillColor: o.palette[c], fillOpacity: 1,
                fillRule: 'nonzero', interactive: false})));
        }
    });
    return L.featureGroup(parts);
}

/* A column of texts sent by Python (`_text_column`): {t: table, c: base64 codes of width w
   (0: none, k: t[k - 1])}, {k: the text of every row} or {v: texts}. Returns i -> text (or
   null). */
function cwsColumn(col) {
    if ('k' in col) { return function () { return col.k; }; }
    if (col.v) { var v = col.v; return function (i) { return v[i]; }; }
    var t = col.t, c = cwsInts(col.c, col.w);
    return function (i) { return c[i] ? t[c[i] - 1] : null; };
}

/* A popup built from plain texts (never parsed as HTML): a title and rows
   [[label, value], ...] (rows without a value are left out). */
function cwsPopup(title, rows) {
    var div = document.createElement('div'), head = document.createElement('div');
    div.className = 'cws-popup';
    head.className = 'cws-popup-title';
    head.textContent = title;
    div.appendChild(head);
    var table = null;
    (rows || []).forEach(function (r) {
        if (r[1] === null || r[1] === undefined) { return; }
        table = table || div.appendChild(document.createElement('table'));
        var tr = table.appendChild(document.createElement('tr'));
        tr.appendChild(document.createElement('th')).textContent = r[0];
        tr.appendChild(document.createElement('td')).textContent = r[1];
    });
    return div;
}

/* Append a small note (plain text) under a tooltip or popup, if there is one. */
function cwsNote(parent, text) {
    if (text) {
        var n = parent.appendChild(document.createElement('div'));
        n.className = 'cws-tip-note';
        n.textContent = text;
    }
    return parent;
}

/* Mouse handling shared by the canvas point layers of a map (window.cwsPoints).
   A canvas takes every mouse event over the whole map, so a points' pane lets events through
   (pointer-events: none) except while the mouse is over one of its points: layers below keep
   their tooltips, and Leaflet's own canvas hit-testing (tooltips, clicks) works on the
   points. Layers added later (higher panes, e.g. the spaces) are tested first; points far
   from the mouse are rejected in degrees before any projection. */
function cwsPointsRuntime(map) {
    var entries = [], last = null, queued = false;
    function hit(lp, ll) {
        var deg = 360 / (256 * Math.pow(2, map.getZoom()));  // degrees of longitude per pixel
        for (var g = entries.length - 1; g >= 0; g--) {
            var en = entries[g];
            if (en.group && !map.hasLayer(en.group)) { continue; }
            for (var i = 0; i < en.markers.length; i++) {
                var m = en.markers[i], p = m._latlng, tol = (m.options.radius + 1) * deg;
                if (Math.abs(p.lng - ll.lng) > tol || Math.abs(p.lat - ll.lat) > tol ||
                        !map.hasLayer(m)) { continue; }
                if (lp.distanceTo(map.latLngToLayerPoint(p)) <= m.options.radius + 1) {
                    return {group: en.group, marker: m, pane: en.pane};
                }
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
            var h = hit(last.layerPoint, last.latlng), oe = last.originalEvent;
            entries.forEach(function (en) {
                var on = !!h && h.pane === en.pane, was = en.pane.style.pointerEvents === 'auto';
                if (on === was) { return; }
                en.pane.style.pointerEvents = on ? 'auto' : 'none';
                var canvas = en.pane.querySelector('canvas');
                if (on && canvas && oe) {  // let Leaflet's canvas see this position
                    canvas.dispatchEvent(new MouseEvent('mousemove', {
                        clientX: oe.clientX, clientY: oe.clientY, bubbles: true}));
                }
            });
        });
    });
    map.on('click', function (e) {  // touch screens: a tap on a point shows its tooltip
        if (entries.some(function (en) { return en.pane.style.pointerEvents === 'auto'; })) {
            return;
        }
        var h = hit(e.layerPoint, e.latlng);
        if (h) {
            (h.group || h.marker).fire('click', {layer: h.marker, latlng: h.marker.getLatLng()});
        }
    });
    /* `group`: the layer holding `markers` (null: test each marker alone). */
    return {add: function (group, markers, pane) {
        entries.push({group: group, markers: markers, pane: map.getPane(pane || 'cws-points')});
    }};
}

/* Last script of a page: `#all-layers` shows every layer (but opt-in basemaps such as the
   network tiles); `data-cws-ready` and a `cws-ready` event on the document once drawn. */
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
            document.dispatchEvent(new Event('cws-ready'));
        }); });
    });
}
