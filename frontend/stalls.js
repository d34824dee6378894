// Where cases stall: the procedure version's diagram in bpmn-js's viewer, each task painted by its band (the
// median working days it took, against the slowest task's) and labelled with that median and the share of its
// deadlines missed. The table below the diagram carries the same figures.
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';

async function start(root) {
  const heat = JSON.parse(root.dataset.heat);
  const xml = await fetch(root.dataset.diagram, { credentials: 'same-origin' }).then((r) => r.text());
  const viewer = new NavigatedViewer({ container: root });
  await viewer.importXML(xml);
  const canvas = viewer.get('canvas');
  const overlays = viewer.get('overlays');
  const registry = viewer.get('elementRegistry');
  canvas.zoom('fit-viewport');
  Object.entries(heat).forEach(([id, entry]) => {
    if (!registry.get(id)) return;
    canvas.addMarker(id, `heat-${entry.band}`);
    const label = document.createElement('span');
    label.className = 'heat-label';
    label.textContent = entry.label;
    overlays.add(id, 'stall-label', { position: { bottom: -4, left: 0 }, html: label });
  });
  root.setAttribute('data-painted', String(Object.keys(heat).length));
}

document.addEventListener('DOMContentLoaded', () => {
  document.querySelectorAll('[data-stalls]').forEach((root) => {
    start(root).catch((error) => {
      root.textContent = 'The diagram could not be shown; the table below has the same figures.';
      console.error(error);
    });
  });
});
