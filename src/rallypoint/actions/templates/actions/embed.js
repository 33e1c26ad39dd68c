/* {{ brand.name }}: "{{ action.title|escapejs }}" widget. Paste <script src="..." async></script> where it should appear. */
(function () {
  var script = document.currentScript;
  var origin = "{{ origin|escapejs }}";
  var params = new URLSearchParams(window.location.search);
  var query = [];
  // Pass the host page's ?ref= code through: the iframe cannot read the host page's URL.
  if (params.get("ref")) query.push("ref=" + encodeURIComponent(params.get("ref")));
  if (params.get("ch")) query.push("ch=" + encodeURIComponent(params.get("ch")));
  var frame = document.createElement("iframe");
  frame.src = "{{ embed_url|escapejs }}" + (query.length ? "?" + query.join("&") : "");
  frame.title = "{{ action.title|escapejs }}";
  frame.setAttribute("loading", "lazy");
  frame.style.cssText = "display:block;width:100%;max-width:560px;height:640px;border:0;";
  if (script && script.parentNode) {
    script.parentNode.insertBefore(frame, script.nextSibling);
  } else {
    document.body.appendChild(frame);
  }
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || event.source !== frame.contentWindow) return;
    var data = event.data || {};
    if (data.type === "rallypoint:height" && data.height > 0) {
      frame.style.height = Math.ceil(data.height) + "px";
    }
  });
})();
