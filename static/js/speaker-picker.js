// The search page's speaker picker: a box before the plain <select> (which works on its
// own) that narrows its options as you type, word starts in any order, ё as е. The
// first match is chosen, so Enter searches with it; a polite live region says how many
// match. The box is made here, so a page without script shows only the select.
(function () {
  var picker = document.querySelector("[data-speaker-picker]");
  if (!picker) return;
  var select = picker.querySelector("select");
  var options = Array.prototype.slice.call(select.options, 1); // the first is «any speaker»

  function fold(text) {
    return text.toLowerCase().replace(/ё/g, "е");
  }

  var words = options.map(function (option) {
    return fold(option.text).split(/[\s\-‐()]+/);
  });

  var label = document.createElement("label");
  var box = document.createElement("input");
  var status = document.createElement("span");
  box.type = "search";
  box.id = select.id + "-filter";
  box.autocomplete = "off";
  box.className = "picker-filter";
  box.setAttribute("aria-controls", select.id);
  box.setAttribute("aria-describedby", box.id + "-status");
  box.placeholder = picker.getAttribute("data-filter-label");
  label.htmlFor = box.id;
  label.className = "visually-hidden";
  label.textContent = box.placeholder;
  status.id = box.id + "-status";
  status.className = "picker-status hint";
  status.setAttribute("aria-live", "polite");
  picker.insertBefore(status, select);
  picker.insertBefore(box, status);
  picker.insertBefore(label, box);

  box.addEventListener("input", function () {
    var typed = fold(box.value).split(/[\s\-‐]+/).filter(Boolean);
    var first = null;
    var count = 0;
    options.forEach(function (option, i) {
      var match = typed.every(function (part) {
        return words[i].some(function (word) { return word.indexOf(part) === 0; });
      });
      option.hidden = !match;
      if (match) {
        count += 1;
        first = first || option;
      }
    });
    if (!typed.length) {
      status.textContent = "";
      return;
    }
    if (select.selectedOptions.length === 0 || select.selectedOptions[0].hidden || select.selectedIndex === 0) {
      select.value = first ? first.value : "";
    }
    status.textContent = picker.getAttribute("data-count-label") + " " + count;
  });

  // Down arrow from the box goes on to the (narrowed) list.
  box.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      select.focus();
    }
  });
})();
