/* Search boxes over checkable lists (core/_checklist.html): type to narrow the list; checked
   items always stay visible. Without JavaScript the whole list shows and the box stays hidden. */
(function () {
  "use strict";
  function setup(root) {
    root.querySelectorAll(".checklist-search").forEach(function (wrap) {
      var input = wrap.querySelector("input");
      var list = document.getElementById(input.getAttribute("data-filter-list"));
      if (!list || wrap.getAttribute("data-ready")) return;
      wrap.setAttribute("data-ready", "1");
      wrap.hidden = false;
      var none = list.parentNode.querySelector(".checklist-none");
      input.addEventListener("input", function () {
        var words = input.value.toLowerCase().trim();
        var shown = 0;
        list.querySelectorAll("li").forEach(function (item) {
          var box = item.querySelector("input");
          var match = !words || item.textContent.toLowerCase().indexOf(words) !== -1;
          item.hidden = !(match || (box && box.checked));
          if (!item.hidden) shown++;
        });
        if (none) none.hidden = shown > 0;
      });
      // The search box is not part of the form's data: keep its events from live previews.
      ["change", "keyup"].forEach(function (name) {
        input.addEventListener(name, function (event) { event.stopPropagation(); });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { setup(document); });
  document.addEventListener("htmx:afterSwap", function (event) { setup(event.target); });
})();
