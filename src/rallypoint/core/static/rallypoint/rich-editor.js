/* Rich-text editing for long texts (a campaign's story, an action's description): every
   <textarea data-rich-editor> becomes a Quill editor with headings, bold/italic/underline,
   lists, quotes and links, and writes its HTML back into the textarea, which the form submits
   (the server sanitises it). Without JavaScript the textarea stays and takes plain text or
   basic HTML. */
(function () {
  "use strict";

  function asHtml(text) {
    // Plain text (older stories): blank lines make paragraphs.
    if (/<[a-z][\s\S]*>/i.test(text)) return text;
    return text.split(/\n\s*\n/).map(function (block) {
      var p = document.createElement("p");
      p.textContent = block.trim();
      return p.outerHTML.replace(/\n/g, "<br>");
    }).join("");
  }

  function setup(textarea) {
    var Quill = window.Quill;
    if (!Quill || textarea.getAttribute("data-ready")) return;
    textarea.setAttribute("data-ready", "1");
    var box = document.createElement("div");
    box.className = "rich-editor";
    var area = document.createElement("div");
    box.appendChild(area);
    textarea.parentNode.insertBefore(box, textarea.nextSibling);
    textarea.hidden = true;
    var label = document.querySelector('label[for="' + textarea.id + '"]');
    var quill = new Quill(area, {
      theme: "snow",
      modules: {
        toolbar: [
          [{ header: [2, 3, false] }],
          ["bold", "italic", "underline"],
          [{ list: "ordered" }, { list: "bullet" }],
          ["blockquote", "link"],
          ["clean"],
        ],
      },
    });
    if (label) {
      quill.root.setAttribute("aria-label", label.textContent.trim());
      label.addEventListener("click", function () { quill.focus(); });
    }
    if (textarea.value.trim()) {
      quill.clipboard.dangerouslyPasteHTML(asHtml(textarea.value), "silent");
    }
    quill.on("text-change", function () {
      textarea.value = quill.getLength() <= 1 ? "" : quill.getSemanticHTML().replace(/&nbsp;/g, " ");
      textarea.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea[data-rich-editor]").forEach(setup);
  });
})();
