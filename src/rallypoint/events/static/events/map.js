/* The event map: only loaded when the site sets EVENT_MAP_TILE_URL. The list stays the page;
   the map is an extra view of the same results. */
(function () {
  "use strict";
  function read(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  var map = null;
  function draw() {
    var box = document.getElementById("event-map");
    var points = read("event-map-points");
    var tiles = read("event-map-tiles");
    if (!box || !points || !points.length || !tiles || !window.L) return;
    if (map) { map.remove(); map = null; }
    map = L.map(box, { scrollWheelZoom: false });
    L.tileLayer(tiles, { attribution: read("event-map-attribution") || "", maxZoom: 18 }).addTo(map);
    var bounds = [];
    points.forEach(function (p) {
      var link = document.createElement("a");
      link.href = p.url;
      link.textContent = p.title;
      L.marker([p.lat, p.lng], { title: p.title, alt: p.title }).addTo(map).bindPopup(link);
      bounds.push([p.lat, p.lng]);
    });
    map.fitBounds(bounds, { padding: [24, 24], maxZoom: 13 });
  }
  window.addEventListener("load", draw);
  document.addEventListener("htmx:afterSwap", draw);
})();
