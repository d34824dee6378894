// The reports' charts: each element with data-chart holds a Vega-Lite specification made on the server from the
// table printed beside it. Drawn on canvas by vega-embed with Vega's expression interpreter, so nothing is
// evaluated as code and the page's Content-Security-Policy holds (no eval, no inline styles).
import embed from 'vega-embed';
import { expressionInterpreter } from 'vega-interpreter';

function draw(node) {
  const spec = JSON.parse(node.dataset.chart);
  return embed(node, spec, {
    actions: false, renderer: 'canvas', ast: true, expr: expressionInterpreter, defaultStyle: false,
    tooltip: false,
  }).then(() => node.setAttribute('data-drawn', 'true'))
    .catch((error) => {
      node.textContent = 'The chart could not be drawn; the table has the same figures.';
      node.setAttribute('data-drawn', 'failed');
      console.error(error);
    });
}

document.addEventListener('DOMContentLoaded', () => {
  document.querySelectorAll('[data-chart]').forEach(draw);
});
