/* cwsgeo spaces: the coworking spaces of a page, drawn from one array.

   Rows: [lat, lon, tooltip_html, popup_html, name, approximate (0/1), radius_m, [type per
   view]] (HTML escaped in Python; the plain name feeds the search box as text). A space at
   an address is a filled circle; one placed from its listing text is hollow (an outline in
   its type's colour) and shows its radius circle on hover, focus or while its popup is open.
   `layers`: one feature group per type key ("1", "2", "3", "0" = unclassified). `cfg.views`:
   the ways of typing the spaces (confirmed, estimated); each has its legend HTML (escaped in
   Python) and layer names; the legend carries a switch between them. Estimated types are
   drawn with a dashed outline and a lighter fill. */
function cwsSpaceViews(map, layers, rows, cfg) {
    var index = window.cwsSpaces = window.cwsSpaces || [], markers = [], current = -1;
    var circle = null, circleOf = null, legend = null;
    function hideCircle() {
        if (circle) { map.removeLayer(circle); }
        circle = circleOf = null;
    }
    function showCircle(mk) {
        if (circleOf === mk) { return; }
        hideCircle();
        circleOf = mk;
        circle = L.circle(mk.getLatLng(), {radius: mk.cwsRow[6], pane: 'cws-walk',
            interactive: false, color: mk.options.cwsColor, weight: 2, dashArray: '5 4',
            fillColor: mk.options.cwsColor, fillOpacity: 0.12, className: 'cws-radius'}
        ).addTo(map);
    }
    function focusable(mk) {
        var el = mk.getElement();
        if (!el) { return; }
        el.setAttribute('tabindex', '0');
        el.setAttribute('role', 'button');
        el.setAttribute('aria-label', mk.cwsRow[4]);
        el.addEventListener('focus', function () { mk.fire('mouseover'); mk.openTooltip(); });
        el.addEventListener('blur', function () { mk.fire('mouseout'); mk.closeTooltip(); });
        el.addEventListener('keydown', function (e) {
            if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); mk.openPopup(); }
        });
    }
    rows.forEach(function (r) {
        var mk = L.circleMarker([r[0], r[1]], {pane: 'cws-spaces', radius: cfg.radius});
        mk.cwsRow = r;
        mk.bindTooltip(r[2], {sticky: true}).bindPopup(r[3], {maxWidth: 340});
        mk.on('add', function () { focusable(mk); });
        if (r[5]) {
            mk.on('mouseover popupopen', function () { showCircle(mk); });
            mk.on('mouseout', function () { if (!mk.isPopupOpen()) { hideCircle(); } });
            mk.on('popupclose remove', function () { if (circleOf === mk) { hideCircle(); } });
        }
        markers.push(mk);
        index.push({name: r[4], marker: mk, layer: null});
    });
    function style(mk, view) {
        var r = mk.cwsRow, key = String(r[7][view.index]), color = cfg.colors[key];
        var est = view.estimated && key !== '0', hollow = !!r[5];
        var cls = 'cws-space cws-type-' + (key === '0' ? 'none' : key) +
            (hollow ? ' cws-space-hollow' : ' cws-space-filled') +
            (est ? ' cws-space-estimated' : '');
        return {key: key, options: {
            color: hollow ? color : cfg.outline, weight: hollow ? cfg.ring : 1.5,
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
