/* cwsgeo density map: district/neighbourhood choropleths with a level and metric selector and a
   legend that follows the selection (window.cwsChoropleth). Each area carries the class
   index of every metric, so switching only restyles. */
function cwsChoropleth(map, cfg) {
    var state = {level: cfg.level, metric: cfg.metric}, layers = {};
    function style(level) {
        var pal = cfg.palettes[level], weight = level === 'districts' ? 1.4 : 0.7;
        return function (f) {
            var mi = cfg.metricIndex[state.metric], c = f.properties.c[mi],
                colors = pal[state.metric] || [];
            return {fillColor: c >= 0 && colors[c] ? colors[c] : cfg.nodata,
                    fillOpacity: 0.72, color: '#ffffff', weight: weight, opacity: 0.9,
                    className: 'cws-choropleth cws-choropleth-' + level};
        };
    }
    cfg.levels.forEach(function (lv) {
        layers[lv.key] = L.geoJSON(lv.data, {
            pane: 'cws-choropleth', style: style(lv.key),
            onEachFeature: function (f, l) { l.bindTooltip(f.properties.tip, {sticky: true}); }
        });
    });
    var panel = cwsLegendPanel(map, 'bottomright');
    var legendDiv = L.DomUtil.create('div', 'cws-legend cws-legend-choropleth');
    var control = L.control({position: 'topleft'}), selects = {};
    control.onAdd = function () {
        var div = L.DomUtil.create('div', 'cws-control cws-choropleth-control');
        var head = L.DomUtil.create('div', 'cws-control-title', div);
        head.textContent = 'Choropleth';
        [['level', 'Areas', cfg.levelOptions], ['metric', 'Metric', cfg.metricOptions]]
            .forEach(function (spec) {
                var lab = L.DomUtil.create('label', '', div);
                lab.textContent = spec[1];
                var sel = L.DomUtil.create('select', 'cws-' + spec[0] + '-select', div);
                spec[2].forEach(function (o) {
                    var opt = document.createElement('option');
                    opt.value = o[0]; opt.textContent = o[1];
                    sel.appendChild(opt);
                });
                sel.value = state[spec[0]];
                L.DomEvent.on(sel, 'change', function () {
                    state[spec[0]] = sel.value; update();
                });
                selects[spec[0]] = sel;
            });
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
    };
    var legendShown = false;
    function update() {
        Object.keys(layers).forEach(function (k) {
            var lyr = layers[k];
            if (k === state.level) {
                if (!map.hasLayer(lyr)) { lyr.addTo(map); }
                lyr.setStyle(style(k));
            } else if (map.hasLayer(lyr)) { map.removeLayer(lyr); }
        });
        var on = Object.prototype.hasOwnProperty.call(layers, state.level);
        if (on && !legendShown) { panel.show(legendDiv, 5); legendShown = true; }
        if (!on && legendShown) { panel.hide(legendDiv); legendShown = false; }
        if (on) {
            legendDiv.innerHTML = cfg.legends[state.level][state.metric];
            legendDiv.setAttribute('data-level', state.level);
            legendDiv.setAttribute('data-metric', state.metric);
        }
        Object.keys(selects).forEach(function (k) { selects[k].value = state[k]; });
    }
    control.addTo(map);
    update();
    (window.cwsShowAll = window.cwsShowAll || []).push(function () {
        if (layers[cfg.allLevel]) { state.level = cfg.allLevel; update(); }
    });
    var api = {layers: layers, state: state,
               set: function (level, metric) {
                   if (level) { state.level = level; }
                   if (metric) { state.metric = metric; }
                   update();
               }};
    window.cwsChoropleth = api;
    return api;
}
