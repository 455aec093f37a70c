/* Services inline: show the fields that belong to the chosen type (the form works without it). */
(function () {
  "use strict";
  var TRANSPORT = ["flight", "rail", "transfer"];

  function rowOf(input) {
    return input ? input.closest(".form-row, .fieldBox") : null;
  }

  function apply(block) {
    var select = block.querySelector("select[name$='-type']");
    if (!select) { return; }
    var type = select.value;
    var transport = TRANSPORT.indexOf(type) !== -1;
    ["origin", "destination"].forEach(function (name) {
      var box = rowOf(block.querySelector("[name$='-" + name + "']"));
      if (box) { box.style.display = !type || transport ? "" : "none"; }
    });
    ["city", "address"].forEach(function (name) {
      var box = rowOf(block.querySelector("[name$='-" + name + "']"));
      if (box) { box.style.display = !type || !transport ? "" : "none"; }
    });
    var details = block.querySelector("textarea[name$='-details']");
    if (details) {
      var help = block.querySelector(".orders-details-help");
      var schemas = JSON.parse(details.dataset.schemas || "{}");
      if (help && schemas[type]) { help.textContent = schemas[type]; }
      if (!details.value.trim() && details.dataset.templates) {
        var templates = JSON.parse(details.dataset.templates);
        if (templates[type]) { details.placeholder = templates[type]; }
      }
    }
  }

  function bind(root) {
    root.querySelectorAll(".inline-related").forEach(function (block) {
      if (block.dataset.ordersBound) { return; }
      block.dataset.ordersBound = "1";
      var select = block.querySelector("select[name$='-type']");
      if (select) { select.addEventListener("change", function () { apply(block); }); }
      apply(block);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { bind(document); });
  document.addEventListener("formset:added", function (event) { bind(event.target.closest(".inline-group") || document); });
})();
