// A long transcript is split into pages of data-page-size statements. A link written
// before that, or shared as "#u1234" without ?page=, lands on the first page: take it
// to the page that holds statement 1234, keeping the other parameters (?q=).
(function () {
  var article = document.querySelector("article.meeting[data-page-size]");
  var match = /^#u([0-9]{1,7})$/.exec(window.location.hash);
  if (!article || !match || document.getElementById("u" + match[1])) return;
  var size = parseInt(article.getAttribute("data-page-size"), 10);
  var page = Math.floor((parseInt(match[1], 10) - 1) / size) + 1;
  if (!size || page < 1 || String(page) === article.getAttribute("data-page")) return;
  var params = new URLSearchParams(window.location.search);
  if (page > 1) params.set("page", String(page)); else params.delete("page");
  var query = params.toString();
  window.location.replace(window.location.pathname + (query ? "?" + query : "") + window.location.hash);
})();

// Each statement's "Cite" holds the archive's style; every style for 200 statements
// would weigh three times as much (docs/pages.md), so the others come from the fragment
// named by data-fragment when it first opens. Without script, or if that fails, the
// link leads to the statement page's list (#cite).
document.addEventListener("toggle", function (event) {
  var details = event.target;
  if (!details.open || !details.matches || !details.matches("details.cite")) return;
  var link = details.querySelector("a[data-fragment]");
  if (!link || link.hasAttribute("data-loading")) return;
  link.setAttribute("data-loading", "");
  fetch(link.getAttribute("data-fragment"), { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.text();
    })
    .then(function (html) {
      var styles = new DOMParser().parseFromString(html, "text/html").body.children;
      link.parentNode.replaceWith.apply(link.parentNode, Array.prototype.slice.call(styles));
    })
    .catch(function () { link.removeAttribute("data-loading"); });
}, true);
