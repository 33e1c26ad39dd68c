/* Share kit: copy-link button and the phone's own share sheet. Without JavaScript the link
   stays visible in its text box and the channel links work as plain links. */
(function () {
  if (window.rallypointShare) return;
  window.rallypointShare = true;

  function ping(url) {
    if (url) fetch(url, { credentials: "same-origin" }).catch(function () {});
  }

  function copy(button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    var status = button.closest(".share-copy").querySelector("[data-copy-status]");
    function done(ok) {
      status.textContent = ok ? "Link copied. Paste it anywhere." : "Select the link and copy it.";
      if (ok) ping(button.getAttribute("data-beacon"));
    }
    input.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(function () { done(true); }, function () {
        done(document.execCommand && document.execCommand("copy"));
      });
    } else {
      done(document.execCommand && document.execCommand("copy"));
    }
  }

  function nativeShare(button) {
    navigator.share({
      title: button.getAttribute("data-title"),
      text: button.getAttribute("data-text"),
      url: button.getAttribute("data-url"),
    }).then(function () { ping(button.getAttribute("data-beacon")); }, function () {});
  }

  function init() {
    document.querySelectorAll("[data-copy]").forEach(function (b) { b.hidden = false; });
    if (navigator.share) {
      document.querySelectorAll("[data-native-share]").forEach(function (b) { b.hidden = false; });
    }
  }

  document.addEventListener("click", function (event) {
    var copyButton = event.target.closest("[data-copy]");
    if (copyButton) { copy(copyButton); return; }
    var shareButton = event.target.closest("[data-native-share]");
    if (shareButton) nativeShare(shareButton);
  });
  document.addEventListener("focusin", function (event) {
    if (event.target.matches("[data-share-url]")) event.target.select();
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
  document.addEventListener("htmx:afterSwap", init);
})();
