// Two versions of a procedure side by side in bpmn-js's viewer: elements added (on the newer), removed (on the
// older) and changed (on both) marked; the lists below the diagrams say the same for screen readers.
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';

async function show(container, url, marks) {
  const xml = await fetch(url, { credentials: 'same-origin' }).then((r) => r.text());
  const viewer = new NavigatedViewer({ container });
  await viewer.importXML(xml);
  const canvas = viewer.get('canvas');
  const registry = viewer.get('elementRegistry');
  canvas.zoom('fit-viewport');
  marks.forEach(([ids, cls]) => ids.forEach((id) => { if (registry.get(id)) canvas.addMarker(id, cls); }));
}

document.querySelectorAll('[data-compare]').forEach(async (root) => {
  const ids = (key) => (root.dataset[key] || '').split(' ').filter(Boolean);
  await Promise.all([
    show(root.querySelector('#compare-before'), root.dataset.before, [[ids('removed'), 'compare-removed'],
      [ids('changed'), 'compare-changed']]),
    show(root.querySelector('#compare-after'), root.dataset.after, [[ids('added'), 'compare-added'],
      [ids('changed'), 'compare-changed']]),
  ]);
  root.dataset.ready = 'true';
});
