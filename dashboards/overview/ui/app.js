/* global document */
// Entry module of the overview page; the views land in the next commits.
const view = document.getElementById("view");
if (view) view.textContent = "meshsight";
