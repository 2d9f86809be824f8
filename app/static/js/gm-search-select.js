// Search-as-you-type selects (app/views/widgets.py): Select2 4 (shipped by FAB) asks the
// field's scoped JSON endpoint for matches; nothing but the current value is in the page.
(function () {
  function init() {
    if (!window.jQuery || !jQuery.fn.select2) { return; }
    jQuery("select.gm-search-select").each(function () {
      var elem = jQuery(this);
      if (elem.data("select2")) { return; }
      elem.select2({
        theme: "bootstrap",
        allowClear: true,
        placeholder: elem.data("placeholder") || "",
        minimumInputLength: 0,
        ajax: {
          url: elem.data("endpoint"),
          dataType: "json",
          delay: 250,
          data: function (params) { return {q: params.term || ""}; },
          processResults: function (data) { return {results: data.results}; }
        }
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
