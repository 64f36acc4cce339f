/* cwsgeo spaces: the coworking spaces of a page, drawn from one set of columns.

   `data`: {n, lat, lon (int32 microdegrees), name (texts), approx (uint8 0/1), radius
   (uint16 m), note (tooltip note, a text column), fields: [[label, parts], ...] (popup rows: constant
   texts and text columns joined), types: [uint8 type key per space, per view]} (numbers: base64, see cwsInts; text
   columns: see cwsColumn). Tooltips and popups are built from these plain texts with
   textContent, when first shown. A space at an address is a filled circle; one placed from
   its listing text is hollow (an outline in its type's colour) and shows its radius circle on
   hover, focus or while its popup is open. `layers`: one feature group per type key ("1",
   "2", "3", "0" = unclassified). `cfg.views`: the ways of typing the spaces (confirmed,
   estimated); each has its legend HTML (escaped in Python) and layer names; the legend
   carries a switch between them. Estimated types are drawn with a dashed outline and a
   lighter fill. With `cfg.canvas` (many spaces) the markers are drawn on one canvas. */
function cwsSpaceViews(map, layers, data, cfg) {
    var index = window.cwsSpaces = window.cwsSpaces || [], markers = [], current = -1;
    var circle = null, circleOf = null, legend = null, n = data.n;
    var note = cwsColumn(data.note), fields = data.fields.map(function (f) {
        var parts = f[1].map(function (p) {
            return typeof p === 'string' ? p : cwsColumn(p); });
        return [f[0], function (i) {  // the parts joined; no text when a column has none
            var out = '';
            for (var k = 0; k < parts.length; k++) {
                var t = typeof parts[k] === 'string' ? parts[k] : parts[k](i);
                if (t === null || t === undefined) { return null; }
                out += t;
            }
            return out;
        }];
    });
    var lat = cwsInts(data.lat, 4), lon = cwsInts(data.lon, 4), approx = cwsInts(data.approx, 1);
    var radius = cwsInts(data.radius, 2), types = data.types.map(function (t) {
        return cwsInts(t, 1); });
    var renderer = cfg.canvas ? L.canvas({pane: 'cws-spaces', tolerance: 2}) : null;
    function tooltip(mk) {
        var div = document.createElement('div'), i = mk.cwsI;
        div.appendChild(document.createTextNode(data.name[i]));
        return cwsNote(div, note(i));
    }
    function popup(mk) {
        var i = mk.cwsI;
        return cwsPopup(data.name[i], fields.map(function (f) { return [f[0], f[1](i)]; }));
    }
    function hideCircle() {
        if (circle) { map.removeLayer(circle); }
        circle = circleOf = null;
    }
    function showCircle(mk) {
        if (circleOf === mk) { return; }
        hideCircle();
        circleOf = mk;
        circle = L.circle(mk.getLatLng(), {radius: radius[mk.cwsI], pane: 'cws-walk',
            interactive: false, color: mk.options.cwsColor, weight: 2, dashArray: '5 4',
            fillColor: mk.options.cwsColor, fillOpacity: 0.12, className: 'cws-radius'}
        ).addTo(map);
    }
    function focusable(mk) {
        var el = mk.getElement();
        if (!el) { return; }  // drawn on a canvas
        el.setAttribute('tabindex', '0');
        el.setAttribute('role', 'button');
        el.setAttribute('aria-label', data.name[mk.cwsI]);
        el.addEventListener('focus', function () { mk.fire('mouseover'); mk.openTooltip(); });
        el.addEventListener('blur', function () { mk.fire('mouseout'); mk.closeTooltip(); });
        el.addEventListener('keydown', function (e) {
            if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); mk.openPopup(); }
        });
    }
    for (var i = 0; i < n; i++) {
        var mk = L.circleMarker([lat[i] / 1e6, lon[i] / 1e6], {
            pane: 'cws-spaces', radius: cfg.radius, renderer: renderer || undefined});
        mk.cwsI = i;
        mk.bindTooltip(tooltip, {sticky: true}).bindPopup(popup, {maxWidth: 340});
        if (!renderer) { mk.on('add', function () { focusable(this); }); }
        if (approx[i]) {
            mk.on('mouseover popupopen', function () { showCircle(this); });
            mk.on('mouseout', function () { if (!this.isPopupOpen()) { hideCircle(); } });
            mk.on('popupclose remove', function () {
                if (circleOf === this) { hideCircle(); } });
        }
        markers.push(mk);
        index.push({name: data.name[i], marker: mk, layer: null});
    }
    if (renderer) {
        window.cwsPoints.add(null, markers, 'cws-spaces');
        /* many spaces: smaller circles while the whole city is in view, the filled ones
           without their outline (colour only) below zoom 15 */
        var sized = function () {
            var z = map.getZoom(), r = cfg.radius * (z <= 13 ? 0.6 : z === 14 ? 0.8 : 1);
            if (markers.length && markers[0].options.radius !== r) {
                markers.forEach(function (mk) {
                    mk.options.stroke = z >= 15 || !!approx[mk.cwsI];
                    mk.setRadius(r);
                });
            }
        };
        map.on('zoomend', sized);
        map.whenReady(sized);
    }
    function style(mk, view) {
        var i = mk.cwsI, key = String(types[view.index][i]), color = cfg.colors[key];
        var est = view.estimated && key !== '0', hollow = !!approx[i];
        var cls = 'cws-space cws-type-' + (key === '0' ? 'none' : key) +
            (hollow ? ' cws-space-hollow' : ' cws-space-filled') +
            (est ? ' cws-space-estimated' : '');
        return {key: key, options: {
            color: hollow ? color : cfg.outline, weight: hollow ? cfg.ring : cfg.line,
            dashArray: est ? (hollow ? '4 3' : '3 2') : null, fill: true,
            fillColor: hollow ? '#ffffff' : color,
            fillOpacity: hollow ? 0 : (est ? 0.6 : 0.95), className: cls, cwsColor: color}};
    }
    function relabel(view) {
        var ctl = window.cwsLayerControl;
        if (!ctl || !ctl._layers) { return; }  // not made yet (the names are right)
        ctl._layers.forEach(function (o) {
            Object.keys(layers).forEach(function (k) {
                if (o.layer === layers[k] && view.names[k]) { o.name = view.names[k]; }
            });
        });
        ctl._update();
    }
    function switcher(i) {
        var box = document.createElement('fieldset'), name = 'cws-view-' + L.stamp(box);
        box.className = 'cws-view-switch';
        var leg = document.createElement('legend');
        leg.textContent = 'Types shown';
        box.appendChild(leg);
        cfg.views.forEach(function (v, j) {
            var lab = document.createElement('label'), input = document.createElement('input');
            input.type = 'radio';
            input.name = name;
            input.value = v.key;
            input.checked = j === i;
            input.addEventListener('change', function () { if (input.checked) { show(j); } });
            lab.appendChild(input);
            lab.appendChild(document.createTextNode(' ' + v.label));
            box.appendChild(lab);
        });
        return box;
    }
    function show(i) {
        var view = cfg.views[i];
        view.index = i;
        hideCircle();
        markers.forEach(function (mk, n) {
            var s = style(mk, view), group = layers[s.key] || layers['0'];
            Object.keys(layers).forEach(function (k) { layers[k].removeLayer(mk); });
            L.setOptions(mk, s.options);
            group.addLayer(mk);
            if (mk._path) { mk.setStyle(s.options); }
            index[index.length - markers.length + n].layer = group;
        });
        current = i;
        if (legend) {
            legend.innerHTML = view.legend;
            var det = legend.querySelector('details');
            if (cfg.views.length > 1 && det) {
                det.insertBefore(switcher(i), det.children[1] || null);
            }
        }
        relabel(view);
        document.documentElement.setAttribute('data-cws-view', view.key);
    }
    legend = window.cwsLegend(map, 'bottomright', cfg.legendClass, '', [], 0);
    show(cfg.view);
    window.cwsSpaceView = function (key) {
        cfg.views.forEach(function (v, j) { if (v.key === key && j !== current) { show(j); } });
    };
    return markers;
}
