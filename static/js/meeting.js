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
