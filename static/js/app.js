// Keyboard shortcuts for people who work in the app all day.
//   /        focus the page's search box (an input with data-search)
//   Alt+N / Alt+P  next / previous page of a list (the pager's links carry accesskeys n and p)
document.addEventListener("keydown", function (event) {
  const target = event.target;
  const typing = target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT");
  if (event.key === "/" && !typing) {
    const search = document.querySelector("[data-search]");
    if (search) { event.preventDefault(); search.focus(); search.select(); }
  }
});
