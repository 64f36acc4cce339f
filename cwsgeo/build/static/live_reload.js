/* cwsgeo live preview: reload this page when `cwsgeo watch --serve` finishes a rebuild.
   Keeps the map's centre and zoom across the reload; shows a failed build as a text banner. */
(function () {
  "use strict";
  var KEY = "cwsgeo-preview-view:" + location.pathname;
  function map() { return window.cwsMap || null; }
  function restoreView() {
    var saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch (e) { saved = null; }
    sessionStorage.removeItem(KEY);
    var m = map();
    if (!saved || !m) { return; }
    /* the page's first view is not animated (maps/layers.py), so nothing undoes this one */
    m.setView([saved.lat, saved.lng], saved.zoom, {animate: false});
  }
  function whenMapReady(callback) {
    /* after the page's own first view (data-cws-ready), so it is not overridden; a slow
       page (a big map on a busy machine) is waited for as long as it takes */
    if (document.documentElement.hasAttribute("data-cws-ready")) { callback(); return; }
    document.addEventListener("cws-ready", callback, {once: true});
  }
  function saveView() {
    var m = map();
    if (!m) { return; }
    var c = m.getCenter();
    sessionStorage.setItem(KEY, JSON.stringify({lat: c.lat, lng: c.lng, zoom: m.getZoom()}));
  }
  function banner(text) {
    var box = document.getElementById("cwsgeo-preview-banner");
    if (!box) {
      box = document.createElement("div");
      box.id = "cwsgeo-preview-banner";
      box.setAttribute("role", "status");
      box.style.cssText = "position:fixed;left:50%;bottom:40px;transform:translateX(-50%);" +
        "z-index:10000;max-width:70%;padding:8px 14px;border-radius:4px;background:#fff3cd;" +
        "color:#5c4400;border:1px solid #d8b84a;font:13px/1.4 system-ui,sans-serif;" +
        "box-shadow:0 1px 4px rgba(0,0,0,.25)";
      document.body.appendChild(box);
    }
    box.textContent = text;  /* text only: a message never runs as HTML */
  }
  whenMapReady(restoreView);
  if (!window.EventSource) { return; }
  var source = new EventSource("/_cwsgeo/events");
  source.addEventListener("build", function (event) {
    var info = {};
    try { info = JSON.parse(event.data); } catch (e) { info = {ok: true}; }
    if (info.ok) { saveView(); location.reload(); }
    else { banner("Build failed; this map is the previous one. " + (info.message || "")); }
  });
})();
