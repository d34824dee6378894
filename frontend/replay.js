// The replay page: the case's procedure version in bpmn-js's viewer, stepped through its history. Each step
// marks the elements that ran (with how many times), were waiting, lapsed or were withdrawn, and the sequence
// flows taken; beside it, what happened and what was open. Buttons, a slider and a date jump all move the step;
// the table below the diagram carries the same information for screen readers.
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';

const STATES = ['completed', 'active', 'lapsed', 'withdrawn'];

function text(tag, value, className) {
  const node = document.createElement(tag);
  node.textContent = value;
  if (className) node.className = className;
  return node;
}

function when(iso) {
  return new Date(iso).toLocaleString('en-GB', { timeZone: 'Europe/London', weekday: 'short', day: 'numeric',
    month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
}

async function start(root) {
  const [xml, data] = await Promise.all([
    fetch(root.dataset.diagram, { credentials: 'same-origin' }).then((r) => r.text()),
    fetch(root.dataset.steps, { credentials: 'same-origin' }).then((r) => r.json()),
  ]);
  const viewer = new NavigatedViewer({ container: root.querySelector('.replay-canvas') });
  await viewer.importXML(xml);
  const canvas = viewer.get('canvas');
  const overlays = viewer.get('overlays');
  const registry = viewer.get('elementRegistry');
  canvas.zoom('fit-viewport');

  const steps = data.steps;
  const slider = root.querySelector('#replay-slider');
  const position = root.querySelector('#replay-position');
  const detail = root.querySelector('#replay-detail');
  slider.max = String(steps.length);
  let marked = [];

  function show(number) {
    const step = steps[number - 1];
    if (!step) return;
    slider.value = String(number);
    position.textContent = `Step ${number} of ${steps.length}: ${when(step.at)}`;
    marked.forEach(([id, cls]) => canvas.removeMarker(id, cls));
    overlays.remove({ type: 'replay-count' });
    marked = [];
    Object.entries(step.elements).forEach(([id, entry]) => {
      if (!registry.get(id) || !STATES.includes(entry.state)) return;
      canvas.addMarker(id, `replay-${entry.state}`);
      marked.push([id, `replay-${entry.state}`]);
      if (entry.count > 1) {
        overlays.add(id, 'replay-count', { position: { top: -12, right: 12 }, html: text('span', `×${entry.count}`, 'replay-count') });
      }
    });
    step.flows.forEach((id) => {
      if (!registry.get(id)) return;
      canvas.addMarker(id, 'replay-flow');
      marked.push([id, 'replay-flow']);
    });
    detail.replaceChildren();
    detail.append(text('h3', `At ${when(step.at)}`));
    const list = document.createElement('ul');
    step.happenings.forEach((h) => {
      const item = text('li', `${h.label}${h.what ? ': ' + h.what : ''}${h.by ? ', by ' + h.by : ''}`);
      if (h.answers) {
        const answers = document.createElement('dl');
        Object.entries(h.answers).forEach(([key, value]) => {
          answers.append(text('dt', key), text('dd', String(value)));
        });
        item.append(answers);
      }
      list.append(item);
    });
    detail.append(list);
    detail.append(text('h3', 'Open then'));
    const open = document.createElement('ul');
    if (!step.open_tasks.length) open.append(text('li', 'Nothing open.'));
    step.open_tasks.forEach((t) => open.append(text('li', `${t.title}${t.due ? ', due ' + when(t.due) : ''}`)));
    detail.append(open);
  }

  root.querySelector('#replay-previous').addEventListener('click', () => show(Math.max(1, Number(slider.value) - 1)));
  root.querySelector('#replay-next').addEventListener('click', () => show(Math.min(steps.length, Number(slider.value) + 1)));
  slider.addEventListener('input', () => show(Number(slider.value)));
  root.querySelector('#replay-jump-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const wanted = new Date(root.querySelector('#replay-jump').value);
    let chosen = 1;
    steps.forEach((s, i) => { if (new Date(s.at) <= wanted) chosen = i + 1; });
    show(chosen);
  });
  root.addEventListener('keydown', (event) => {
    if (event.target.tagName === 'INPUT') return;
    if (event.key === 'ArrowLeft') show(Math.max(1, Number(slider.value) - 1));
    if (event.key === 'ArrowRight') show(Math.min(steps.length, Number(slider.value) + 1));
  });
  root.dataset.ready = 'true';
  show(steps.length);
}

document.querySelectorAll('[data-replay]').forEach((root) => {
  start(root).catch((error) => {
    root.dataset.ready = 'failed';
    root.querySelector('.replay-canvas').append(text('p', `The diagram could not be shown: ${error.message}`));
  });
});
