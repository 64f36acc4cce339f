/* cwsgeo map controls: the grouped layer control, search by name, full screen, the opt-in
   network tiles, name labels of the offline basemap and tooltips above the controls. Every
   text from data arrives here as a JSON string and is shown with textContent, never as HTML
   (layer names are escaped in Python: Leaflet shows them as HTML). */

/* Leaflet's layer control with its layers in named, foldable groups (Spaces, Context, Areas,
   Basemap) and a title bar that folds the whole list; folded from the start on small
   screens. `groups`: [{name, open, layers: [[label, layer], ...]}]. */
var CwsLayers = L.Control.Layers.extend({
    initialize: function (groups, options) {
        L.Control.Layers.prototype.initialize.call(this, {}, {}, options);
        this._groupOf = {};
        this._groupOpen = {};
        this._groupOrder = [];
        var self = this;
        groups.forEach(function (g) {
            self._groupOrder.push(g.name);
            self._groupOpen[g.name] = g.open;
            g.layers.forEach(function (it) {
                self._groupOf[L.stamp(it[1])] = g.name;
                self._addLayer(it[1], it[0], true);
            });
        });
    },
    _initLayout: function () {
        L.Control.Layers.prototype._initLayout.call(this);
        var c = this._container, self = this;
        L.DomUtil.addClass(c, 'cws-layers');
        var head = L.DomUtil.create('button', 'cws-layers-head');
        head.type = 'button';
        head.setAttribute('aria-expanded', 'true');
        head.textContent = 'Layers';
        c.insertBefore(head, this._section);
        L.DomEvent.on(head, 'click', function (e) {
            L.DomEvent.stop(e);
            self.fold(!L.DomUtil.hasClass(c, 'cws-layers-folded'));
        });
        var small = window.innerWidth < 1100 || window.innerHeight < 700;
        this.fold(this.options.fold === 'auto' ? small : !!this.options.fold);
    },
    fold: function (folded) {
        var c = this._container;
        if (folded) { L.DomUtil.addClass(c, 'cws-layers-folded'); }
        else { L.DomUtil.removeClass(c, 'cws-layers-folded'); }
        c.querySelector('.cws-layers-head').setAttribute('aria-expanded', String(!folded));
        return this;
    },
    _group: function (name) {
        var g = this._groupEls[name];
        if (g) { return g; }
        var det = document.createElement('details'), sum = document.createElement('summary');
        det.className = 'cws-layer-group';
        det.setAttribute('data-group', name);
        det.open = !!this._groupOpen[name];
        sum.textContent = name;
        det.appendChild(sum);
        var self = this;
        det.addEventListener('toggle', function () { self._groupOpen[name] = det.open; });
        g = this._groupEls[name] = {el: det, body: det, n: 0, on: 0, sum: sum};
        return g;
    },
    _update: function () {
        this._groupEls = {};
        L.Control.Layers.prototype._update.call(this);
        var list = this._overlaysList, self = this;
        this._groupOrder.forEach(function (name) {
            var g = self._groupEls[name];
            if (!g) { return; }
            g.sum.textContent = name + ' (' + g.on + ' of ' + g.n + ' on)';
            list.appendChild(g.el);
        });
        return this;
    },
    _addItem: function (obj) {
        var label = L.Control.Layers.prototype._addItem.call(this, obj);
        var g = this._group(this._groupOf[L.stamp(obj.layer)] || 'Context');
        g.n += 1;
        g.on += this._map.hasLayer(obj.layer) ? 1 : 0;
        g.body.appendChild(label);
        return label;
    },
    /* Layers that `#all-layers` switches on: every overlay but the opt-in ones. */
    allOverlays: function () {
        var out = {};
        this._layers.forEach(function (o) {
            if (!o.layer.options || !o.layer.options.cwsOptIn) { out[L.stamp(o.layer)] = o.layer; }
        });
        return out;
    }
});
function cwsLayerControl(map, groups, options) {
    var ctl = new CwsLayers(groups, Object.assign({collapsed: false, fold: 'auto',
                                                   position: 'topright'}, options || {}));
    ctl.addTo(map);
    window.cwsLayerControl = ctl;
    return ctl;
}

/* OpenStreetMap tiles, offered in the layer control but never requested until chosen. When
   chosen, one tile is tried first: offline, the layer switches itself off again with a short
   note instead of failing on every tile. */
var CwsOptInTiles = L.Layer.extend({
    options: {cwsOptIn: true},
    initialize: function (url, options) {
        this._url = url;
        L.setOptions(this, options);
        this._tiles = L.tileLayer(url, options);
    },
    getAttribution: function () { return this.options.attribution; },
    onAdd: function (map) {
        var self = this, probe = new Image(), c = map.getCenter(), z = map.getZoom();
        var p = map.project(c, z).divideBy(256).floor();
        probe.onload = function () {
            if (map.hasLayer(self)) { self._tiles.addTo(map); }
        };
        probe.onerror = function () {
            if (!map.hasLayer(self)) { return; }
            map.removeLayer(self);
            cwsNotice(map, 'The OpenStreetMap tiles could not be loaded (no internet?): ' +
                           'the offline basemap stays.');
        };
        probe.src = L.Util.template(this._url, L.extend({x: p.x, y: p.y, z: z,
                                                          s: 'a', r: ''}, this.options));
    },
    onRemove: function (map) {
        if (map.hasLayer(this._tiles)) { map.removeLayer(this._tiles); }
    }
});
function cwsOptInTiles(url, options) { return new CwsOptInTiles(url, options); }

/* A short note at the bottom of the map that goes away by itself. */
function cwsNotice(map, text) {
    var div = L.DomUtil.create('div', 'cws-notice', map.getContainer());
    div.setAttribute('role', 'status');
    div.textContent = text;
    setTimeout(function () { if (div.parentNode) { div.parentNode.removeChild(div); } }, 6000);
}

/* Permanent name labels (districts, neighbourhoods, streets): rows [lat, lon, text, kind]; a kind
   shows from its zoom on (`minZoom`: {kind: zoom}) and up to its `maxZoom`. */
function cwsLabels(map, rows, minZoom, maxZoom) {
    var group = L.layerGroup();
    rows.forEach(function (r) {
        var el = document.createElement('span');
        el.textContent = r[2];
        group.addLayer(L.marker([r[0], r[1]], {
            pane: 'cws-labels', interactive: false, keyboard: false,
            icon: L.divIcon({className: 'cws-label cws-label-' + r[3], html: el,
                             iconSize: null})}));
    });
    function zoomClasses() {
        var c = map.getContainer(), z = map.getZoom();
        Object.keys(minZoom).forEach(function (k) {
            var on = z >= minZoom[k] && z <= (maxZoom[k] === undefined ? 99 : maxZoom[k]);
            if (on) { L.DomUtil.addClass(c, 'cws-show-' + k); }
            else { L.DomUtil.removeClass(c, 'cws-show-' + k); }
        });
    }
    map.on('zoomend', zoomClasses);
    map.whenReady(zoomClasses);
    return group;
}

/* Tooltips above the controls: Leaflet keeps them inside the map pane, which sits below
   every control; the tooltip pane moves to the map's container (above the controls) and
   follows the map pane's position. */
function cwsTooltipsOnTop(map) {
    var pane = map.getPane('tooltipPane');
    map.getContainer().appendChild(pane);
    L.DomUtil.addClass(pane, 'cws-tips-on-top');
    pane.style.zIndex = 1100;
    function follow() { L.DomUtil.setPosition(pane, map._getMapPanePos()); }
    map.on('move viewreset zoomend moveend resize', follow);
    follow();
}

/* Full screen button (the Fullscreen API; the map is redrawn to its new size). */
function cwsFullscreen(map) {
    var ctl = L.control({position: 'topleft'});
    ctl.onAdd = function () {
        var bar = L.DomUtil.create('div', 'leaflet-bar cws-fullscreen');
        var a = L.DomUtil.create('a', '', bar);
        a.href = '#';
        a.setAttribute('role', 'button');
        a.title = 'Full screen';
        a.innerHTML = '<svg viewBox="0 0 16 16" fill="none" stroke="#333" stroke-width="2">' +
            '<path d="M1 6V1h5M10 1h5v5M15 10v5h-5M6 15H1v-5"/></svg>';
        L.DomEvent.on(a, 'click', function (e) {
            L.DomEvent.stop(e);
            var el = map.getContainer();
            if (document.fullscreenElement) { document.exitFullscreen(); }
            else if (el.requestFullscreen) { el.requestFullscreen(); }
        });
        document.addEventListener('fullscreenchange', function () {
            a.title = document.fullscreenElement ? 'Leave full screen' : 'Full screen';
            map.invalidateSize();
        });
        return bar;
    };
    return ctl.addTo(map);
}

/* Search the spaces by name. Located spaces come from the space layers (window.cwsSpaces:
   {name, marker, layer}); `missing`: [[name, reason], ...] of spaces not on the map. Names
   are matched without case or accents and shown as text. */
function cwsSearch(map, missing) {
    var ctl = L.control({position: 'topleft'});
    function norm(s) {
        return String(s).normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
    }
    ctl.onAdd = function () {
        var div = L.DomUtil.create('div', 'cws-control cws-search');
        var input = L.DomUtil.create('input', 'cws-search-input', div);
        input.type = 'search';
        input.placeholder = 'Find a space by name';
        input.setAttribute('aria-label', 'Find a coworking space by name');
        var list = L.DomUtil.create('ul', 'cws-search-results', div);
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        function go(hit) {
            if (!map.hasLayer(hit.layer)) { map.addLayer(hit.layer); }
            map.setView(hit.marker.getLatLng(), Math.max(map.getZoom(), 16));
            hit.marker.openPopup();
        }
        function show() {
            var q = norm(input.value.trim());
            list.textContent = '';
            if (!q) { return; }
            var hits = (window.cwsSpaces || []).filter(function (s) {
                return norm(s.name).indexOf(q) >= 0; });
            var gone = (missing || []).filter(function (s) { return norm(s[0]).indexOf(q) >= 0; });
            hits.slice(0, 8).forEach(function (hit) {
                var li = L.DomUtil.create('li', 'cws-search-hit', list);
                li.textContent = hit.name;
                li.tabIndex = 0;
                L.DomEvent.on(li, 'click', function () { go(hit); });
                L.DomEvent.on(li, 'keydown', function (e) { if (e.key === 'Enter') { go(hit); } });
            });
            gone.slice(0, Math.max(0, 8 - hits.length)).forEach(function (s) {
                var li = L.DomUtil.create('li', 'cws-search-missing', list);
                li.textContent = s[0] + ' \u2014 not on the map: ' + s[1];
            });
            if (!hits.length && !gone.length) {
                L.DomUtil.create('li', 'cws-search-none', list).textContent = 'No space found';
            }
        }
        L.DomEvent.on(input, 'input', show);
        L.DomEvent.on(input, 'keydown', function (e) {
            var first = (window.cwsSpaces || []).filter(function (s) {
                return norm(s.name).indexOf(norm(input.value.trim())) >= 0; })[0];
            if (e.key === 'Enter' && first && input.value.trim()) { go(first); }
        });
        return div;
    };
    return ctl.addTo(map);
}

/* The title box and its data note (a control at the top left, so that the zoom and full
   screen buttons, the search box and other controls stack below it, never under it), and a
   metric scale bar. */
function cwsFurniture(map, html) {
    if (html) {
        var ctl = L.control({position: 'topleft'});
        ctl.onAdd = function () {
            var div = L.DomUtil.create('div', 'cws-title');
            div.innerHTML = html;
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
        };
        ctl.addTo(map);
    }
    L.control.zoom({position: 'topleft'}).addTo(map);
    cwsFullscreen(map);
    L.control.scale({imperial: false, position: 'bottomleft'}).addTo(map);
}
