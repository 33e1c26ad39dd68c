/* The mailing composer: a Quill editor over the plain <textarea> of the body (which keeps working
   without JavaScript), with a toolbar for headings, bold/italic, lists, links, an image (uploaded
   from the device or by address), a "button" (a link drawn as a button, to one of the campaign's actions or events) and
   merge fields. The editor writes its HTML into the textarea on every change; the server
   sanitises it (services.compose.body_sanitize). */
(function () {
  "use strict";

  var MERGE_FIELDS = { first_name: "friend", last_name: "", full_name: "friend", city: "", postal_code: "" };

  function registerButtonFormat(Quill) {
    if (Quill.imports["formats/button"]) return;
    var Link = Quill.import("formats/link");
    // A link with the class "button": the email renderer draws it as a button.
    class ButtonLink extends Link {}
    ButtonLink.blotName = "button";
    ButtonLink.className = "button";
    Quill.register("formats/button", ButtonLink);
  }

  function semanticHtml(quill) {
    if (quill.getLength() <= 1) return "";
    // Quill writes every space as &nbsp;: put plain spaces back so text wraps in mail clients.
    return quill.getSemanticHTML().replace(/&nbsp;/g, " ");
  }

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text) node.textContent = text;
    return node;
  }

  function isHttpUrl(value) {
    try {
      var url = new URL(value);
      return url.protocol === "http:" || url.protocol === "https:";
    } catch (e) {
      return false;
    }
  }

  function setup(box) {
    var Quill = window.Quill;
    var textarea = document.getElementById(box.getAttribute("data-mail-editor-for"));
    if (!Quill || !textarea || box.getAttribute("data-ready")) return;
    box.setAttribute("data-ready", "1");
    registerButtonFormat(Quill);

    var area = box.querySelector(".mail-editor-area");
    var toolbar = box.querySelector(".mail-toolbar");
    box.hidden = false;
    var quill = new Quill(area, {
      theme: "snow",
      modules: { toolbar: { container: toolbar } },
      placeholder: "Write your message…",
    });
    if (textarea.value.trim()) {
      quill.clipboard.dangerouslyPasteHTML(textarea.value, "silent");
    }
    textarea.hidden = true;
    textarea.setAttribute("aria-hidden", "true");
    textarea.tabIndex = -1;

    // The editing surface is a labelled, multi-line text box for assistive technology.
    var label = document.getElementById("body-label");
    var root = quill.root;
    root.setAttribute("role", "textbox");
    root.setAttribute("aria-multiline", "true");
    if (label) {
      root.setAttribute("aria-labelledby", label.id);
      label.addEventListener("click", function () { quill.focus(); });
    }
    var help = document.getElementById(textarea.id + "_helptext");
    if (help) root.setAttribute("aria-describedby", help.id);
    var picker = toolbar.querySelector(".ql-picker-label");
    if (picker) picker.setAttribute("aria-label", "Text style");

    var pending = null;
    quill.on("text-change", function () {
      textarea.value = semanticHtml(quill);
      // Tell the autosave (htmx) once the writer pauses.
      clearTimeout(pending);
      pending = setTimeout(function () {
        textarea.dispatchEvent(new Event("mail-editor-change", { bubbles: true }));
      }, 400);
    });

    // --- the insert panels (merge field, button, image) ---
    var range = null;
    var open = null;

    function panel(name) { return document.getElementById("panel-" + name); }

    function closePanel(restoreFocus) {
      if (!open) return;
      panel(open).hidden = true;
      var opener = toolbar.querySelector('[data-panel="' + open + '"]');
      if (opener) opener.setAttribute("aria-expanded", "false");
      open = null;
      if (restoreFocus) quill.focus();
    }

    function openPanel(name) {
      var wasOpen = open === name;
      closePanel(false);
      if (wasOpen) { quill.focus(); return; }
      range = quill.getSelection() || { index: Math.max(0, quill.getLength() - 1), length: 0 };
      open = name;
      var node = panel(name);
      node.hidden = false;
      var error = node.querySelector("[data-panel-error]");
      if (error) error.hidden = true;
      var opener = toolbar.querySelector('[data-panel="' + name + '"]');
      if (opener) opener.setAttribute("aria-expanded", "true");
      if (name === "button") loadLinks();
      var first = node.querySelector("select, input");
      if (first) first.focus();
    }

    function fail(name, message) {
      var error = panel(name).querySelector("[data-panel-error]");
      error.textContent = message;
      error.hidden = false;
    }

    function insertHtml(node) {
      var at = range ? range.index : quill.getLength() - 1;
      if (range && range.length) quill.deleteText(range.index, range.length, "user");
      quill.clipboard.dangerouslyPasteHTML(at, node.outerHTML, "user");
      return at;
    }

    var inserters = {
      merge: function () {
        var field = document.getElementById("merge-field").value;
        var fallback = document.getElementById("merge-fallback").value.replace(/[{}|]/g, "").trim();
        var tag = "{{ " + field + (fallback ? " | " + fallback : "") + " }}";
        var at = range ? range.index : quill.getLength() - 1;
        quill.insertText(at, tag, "user");
        quill.setSelection(at + tag.length, 0, "user");
        return true;
      },
      button: function () {
        var url = document.getElementById("button-url").value.trim();
        var text = document.getElementById("button-label").value.trim() || "Take action";
        if (!isHttpUrl(url)) { fail("button", "Choose a page, or type an address starting with https://"); return false; }
        var at = range ? range.index : quill.getLength() - 1;
        quill.insertText(at, text, { button: url }, "user");
        quill.insertText(at + text.length, " ", { button: false }, "user");
        quill.setSelection(at + text.length + 1, 0, "user");
        return true;
      },
      image: function () {
        var url = document.getElementById("image-url").value.trim();
        var alt = document.getElementById("image-alt").value.trim();
        if (!isHttpUrl(url)) { fail("image", "Give the image's address, starting with https://"); return false; }
        var at = insertHtml(element("img", { src: url, alt: alt }));
        quill.setSelection(at + 1, 0, "user");
        return true;
      },
    };

    toolbar.addEventListener("click", function (event) {
      var tool = event.target.closest("[data-panel]");
      if (tool) { event.preventDefault(); openPanel(tool.getAttribute("data-panel")); }
    });
    box.addEventListener("click", function (event) {
      var insert = event.target.closest("[data-insert]");
      if (insert) {
        event.preventDefault();
        if (inserters[insert.getAttribute("data-insert")]()) closePanel(true);
      } else if (event.target.closest("[data-close]")) {
        event.preventDefault();
        closePanel(true);
      }
    });
    box.addEventListener("keydown", function (event) {
      if (!open || !event.target.closest(".mail-panel")) return;
      if (event.key === "Escape") { event.preventDefault(); closePanel(true); }
      if (event.key === "Enter" && event.target.tagName === "INPUT") {
        // Enter inserts instead of submitting the whole mailing form.
        event.preventDefault();
        if (inserters[open]()) closePanel(true);
      }
    });

    // An uploaded image: sent to the server, which checks and stores it and answers its
    // address; the address fills the image panel's field, ready to insert.
    var imageFile = document.getElementById("image-file");
    var uploadStatus = panel("image").querySelector("[data-upload-status]");
    var insertImage = panel("image").querySelector('[data-insert="image"]');
    imageFile.addEventListener("change", function () {
      var file = imageFile.files[0];
      if (!file) return;
      panel("image").querySelector("[data-panel-error]").hidden = true;
      // The new file replaces whatever address was there (a failed upload leaves none).
      document.getElementById("image-url").value = "";
      uploadStatus.textContent = "Uploading " + file.name + "…";
      insertImage.disabled = true;
      var body = new FormData();
      body.append("image", file);
      var token = document.querySelector("#mailing-form input[name=csrfmiddlewaretoken]");
      fetch(box.getAttribute("data-upload-url"), {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": token ? token.value : "" },
      })
        .then(function (response) {
          return response.json().catch(function () { return {}; }).then(function (answer) {
            if (!response.ok) throw new Error(answer.error || "The upload failed (" + response.status + "). Try again.");
            return answer;
          });
        })
        .then(function (answer) {
          document.getElementById("image-url").value = answer.url;
          uploadStatus.textContent = "Uploaded (" + answer.width + " × " + answer.height + " pixels). Add a description, then Insert.";
          document.getElementById("image-alt").focus();
        })
        .catch(function (error) {
          uploadStatus.textContent = "";
          imageFile.value = "";
          fail("image", error.message || "The upload failed. Check your connection and try again.");
        })
        .then(function () { insertImage.disabled = false; });
    });

    var mergeField = document.getElementById("merge-field");
    mergeField.addEventListener("change", function () {
      document.getElementById("merge-fallback").value = MERGE_FIELDS[mergeField.value] || "";
    });

    // The "Button" picker lists the live actions and events of the chosen campaign.
    var pick = document.getElementById("button-pick");
    var campaign = document.querySelector("#mailing-form select[name=campaign]");
    function loadLinks() {
      var id = campaign ? campaign.value : "";
      while (pick.options.length > 1) pick.remove(1);
      if (!id) return;
      fetch(box.getAttribute("data-links-url") + "?campaign=" + encodeURIComponent(id), {
        headers: { Accept: "application/json" }, credentials: "same-origin",
      })
        .then(function (response) { return response.ok ? response.json() : { links: [] }; })
        .then(function (data) {
          data.links.forEach(function (link) {
            pick.add(new Option(link.title, link.url));
          });
        })
        .catch(function () {});
    }
    pick.addEventListener("change", function () {
      if (!pick.value) return;
      document.getElementById("button-url").value = pick.value;
      var label = document.getElementById("button-label");
      label.value = pick.options[pick.selectedIndex].text.slice(0, 60);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-mail-editor-for]").forEach(setup);
  });
})();
