/* Adds the viewer's own local time next to event times shown in the event's zone.
   <time datetime="ISO" data-localtime data-zone="America/Denver">…</time> */
(function () {
  "use strict";
  function convert(root) {
    var viewer;
    try { viewer = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    var nodes = (root || document).querySelectorAll("time[data-localtime]:not([data-converted])");
    for (var i = 0; i < nodes.length; i++) {
      var node = nodes[i];
      node.setAttribute("data-converted", "1");
      if (!viewer || node.getAttribute("data-zone") === viewer) continue;
      var when = new Date(node.getAttribute("datetime"));
      if (isNaN(when.getTime())) continue;
      var text = when.toLocaleString(undefined, {
        weekday: "short", month: "short", day: "numeric",
        hour: "numeric", minute: "2-digit", timeZoneName: "short"
      });
      var extra = document.createElement("span");
      extra.className = "localtime muted";
      extra.textContent = " (" + text + " your time)";
      node.insertAdjacentElement("afterend", extra);
    }
  }
  document.addEventListener("DOMContentLoaded", function () { convert(document); });
  document.addEventListener("htmx:afterSwap", function (e) { convert(e.target); });
})();
