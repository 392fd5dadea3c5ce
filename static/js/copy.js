// Copy buttons: <button type="button" data-copy="ID"> puts the text of element ID on the
// clipboard, and the .copy-status after it says so (aria-live), in the words of the
// nearest data-copied / data-failed (once per page part, not once per button). No inline
// handlers (the Content-Security-Policy forbids them): one listener serves the page,
// buttons added later included (the citation styles meeting.js loads).
(function () {
  function say(button, key) {
    var status = button.nextElementSibling;
    var words = button.closest("[" + key + "]");
    if (!status || !status.classList.contains("copy-status")) return;
    status.textContent = words ? words.getAttribute(key) : "";
    clearTimeout(status.timer);
    status.timer = setTimeout(function () { status.textContent = ""; }, 5000);
  }

  function select(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  // Without the Clipboard API (plain HTTP, older browsers): copy the selection.
  function copySelected(element, button) {
    select(element);
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
    say(button, copied ? "data-copied" : "data-failed");  // failed: the text stays selected for Ctrl+C
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy]");
    var element = button && document.getElementById(button.getAttribute("data-copy"));
    if (!element) return;
    var text = element.value !== undefined ? element.value : element.textContent;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { say(button, "data-copied"); },
        function () { copySelected(element, button); }
      );
    } else {
      copySelected(element, button);
    }
  });
})();
