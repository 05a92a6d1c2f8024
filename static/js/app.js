// Behaviour the pages need beyond htmx. No inline script anywhere: the Content-Security-Policy forbids it.

// <select data-submit-on-change> submits its form when a choice is made (the filters of 待安排联系党员).
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-submit-on-change]")) {
    event.target.form.submit();
  }
});
