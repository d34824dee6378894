// The procedure modeler: the draft's diagram in bpmn-js's Modeler with its properties panel and the
// SpiffWorkflow moddle extension (so what it saves stays SpiffWorkflow BPMN), and beside it the properties a
// process owner sets without writing Python: a lane's role and side, a user task's form and stage, a timer's
// deadline or reminder (the server writes the expression and gives its date for a sample start), who a script
// tells and what it says, the script itself, and the form editor with a live preview drawn by the server's own
// form code. Save keeps the draft; Validate lints the diagram with bpmnlint's recommended rules, then lists the
// server's problems with them, each marked on its element (warnings apart: they do not stop publishing).
import Modeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn.css';
import '@bpmn-io/properties-panel/assets/properties-panel.css';
import spiffworkflow from './spiffworkflow-moddle.json';
import { formEditor } from './form-editor.js';
import { lint } from './lint.js';

const FORM_PROPERTY = 'formJsonSchemaFilename';

function node(tag, attrs = {}, children = []) {
  const el = document.createElement(tag);
  Object.entries(attrs).forEach(([key, value]) => {
    if (key === 'text') el.textContent = value;
    else if (value !== undefined && value !== null && value !== false) el.setAttribute(key, value === true ? '' : value);
  });
  children.forEach((child) => el.append(child));
  return el;
}

let uniqueId = 0;
function labelled(labelText, control, hint) {
  uniqueId += 1;
  control.id = control.id || `pp-${uniqueId}`;
  const wrap = node('div', { class: 'field' }, [node('label', { for: control.id, text: labelText })]);
  if (hint) {
    const hintNode = node('p', { class: 'hint', id: `${control.id}-hint`, text: hint });
    control.setAttribute('aria-describedby', hintNode.id);
    wrap.append(hintNode);
  }
  wrap.append(control);
  return wrap;
}

function select(options, value) {
  const el = node('select');
  options.forEach(([optionValue, text]) => {
    const option = node('option', { value: optionValue, text });
    if (optionValue === value) option.selected = true;
    el.append(option);
  });
  return el;
}

async function start(root) {
  const csrf = root.dataset.csrf;
  const post = (url, body) => fetch(url, {
    method: 'POST', credentials: 'same-origin', body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrf },
  });
  const draft = await fetch(root.dataset.draft, { credentials: 'same-origin' }).then((r) => r.json());
  const state = { forms: draft.forms, lanes: draft.lanes, problems: [], warnings: [], changed: false };
  const modeler = new Modeler({
    container: root.querySelector('#modeler-canvas'),
    propertiesPanel: { parent: root.querySelector('#modeler-properties') },
    additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule],
    moddleExtensions: { spiffworkflow },
    keyboard: { bindTo: document },
  });
  await modeler.importXML(draft.bpmn);
  const canvas = modeler.get('canvas');
  const modeling = modeler.get('modeling');
  const moddle = modeler.get('moddle');
  const registry = modeler.get('elementRegistry');
  const overlays = modeler.get('overlays');
  const selection = modeler.get('selection');
  const eventBus = modeler.get('eventBus');
  canvas.zoom('fit-viewport');
  const status = root.querySelector('#modeler-status');
  const side = root.querySelector('#procedure-properties');
  let marked = [];

  // Only a change of the diagram or of the lane map or forms counts as unsaved work.
  modeler.on('commandStack.changed', () => { state.changed = true; });
  window.addEventListener('beforeunload', (event) => { if (state.changed) event.preventDefault(); });

  function spiffProperties(element, create) {
    const bo = element.businessObject;
    let ext = bo.extensionElements;
    if (!ext && !create) return null;
    if (!ext) {
      ext = moddle.create('bpmn:ExtensionElements', { values: [] });
      modeling.updateProperties(element, { extensionElements: ext });
    }
    let props = (ext.values || []).find((v) => v.$type === 'spiffworkflow:Properties');
    if (!props && create) {
      props = moddle.create('spiffworkflow:Properties', { properties: [] });
      props.$parent = ext;
      modeling.updateModdleProperties(element, ext, { values: [...(ext.values || []), props] });
    }
    return props;
  }

  function getProperty(element, name) {
    const props = spiffProperties(element, false);
    const found = props && (props.properties || []).find((p) => p.name === name);
    return found ? found.value : '';
  }

  function setProperty(element, name, value) {
    const props = spiffProperties(element, true);
    const found = (props.properties || []).find((p) => p.name === name);
    if (found) {
      modeling.updateModdleProperties(element, found, { value });
    } else {
      const property = moddle.create('spiffworkflow:Property', { name, value });
      property.$parent = props;
      modeling.updateModdleProperties(element, props, { properties: [...(props.properties || []), property] });
    }
  }

  // A task's form is where the SpiffWorkflow modeler writes it (a property) or its own element; the property wins.
  function formElement(element) {
    const ext = element.businessObject.extensionElements;
    return ext && (ext.values || []).find((v) => v.$type === 'spiffworkflow:FormJsonSchemaFilename');
  }

  function getForm(element) {
    const own = formElement(element);
    return getProperty(element, FORM_PROPERTY) || (own ? own.value : '');
  }

  function setForm(element, value) {
    const own = formElement(element);
    if (own) modeling.updateModdleProperties(element, own, { value });
    if (!own || getProperty(element, FORM_PROPERTY)) setProperty(element, FORM_PROPERTY, value);
  }

  function lanesInDiagram() {
    return registry.filter((e) => e.type === 'bpmn:Lane' && e.businessObject.name).map((e) => e.businessObject.name);
  }

  function laneEditor(element) {
    const name = element.businessObject.name || '';
    if (!name) return [node('p', { text: 'Name the lane first (double-click it): the lane map is kept by name.' })];
    const entry = state.lanes[name] || { role: '', side: 'raising' };
    const roles = select([['', '(choose a role)'], ...Object.entries(draft.roles)], entry.role);
    const chosen = entry.side && entry.side.startsWith('agency_from:');
    const sideChoice = select([['raising', 'the raising agency'], ['receiving', 'the receiving agency'],
      ['partnership', "the partnership's own body"], ['agency_from', 'an agency chosen while the case runs']],
    chosen ? 'agency_from' : entry.side);
    const field = node('input', { type: 'text', value: chosen ? entry.side.slice('agency_from:'.length) : '' });
    const update = () => {
      state.lanes[name] = { role: roles.value,
        side: sideChoice.value === 'agency_from' ? `agency_from:${field.value.trim()}` : sideChoice.value };
      state.changed = true;
    };
    [roles, sideChoice, field].forEach((c) => c.addEventListener('change', update));
    return [labelled('Role of the lane', roles), labelled('Side: whose people hold it', sideChoice),
      labelled('Field that names the chosen agency (for a chosen agency)', field)];
  }

  function userTaskEditor(element) {
    const form = getForm(element);
    const names = Object.keys(state.forms).sort();
    const forms = select([['', '(no form)'], ...names.map((n) => [n, n]), ['__new__', 'New form…']], form);
    const stage = node('input', { type: 'number', min: '1', step: '1', value: getProperty(element, 'stage') });
    const editorHost = node('div', { class: 'form-editor-host' });
    const open = node('button', { type: 'button', class: 'secondary', text: 'Edit the form' });
    forms.addEventListener('change', () => {
      let chosen = forms.value;
      if (chosen === '__new__') {
        const id = element.businessObject.id.replace(/[^A-Za-z0-9_.-]/g, '_');
        chosen = `${id}.json`;
        if (!state.forms[chosen]) {
          state.forms[chosen] = { title: element.businessObject.name || id, type: 'object', required: [],
            properties: {} };
        }
        forms.append(node('option', { value: chosen, text: chosen }));
        forms.value = chosen;
      }
      setForm(element, chosen);
    });
    stage.addEventListener('change', () => setProperty(element, 'stage', stage.value));
    open.addEventListener('click', () => {
      if (!forms.value || !state.forms[forms.value]) return;
      editorHost.replaceChildren(formEditor(forms.value, state.forms[forms.value], (schema) => {
        state.forms[forms.value] = schema;
        state.changed = true;
      }, (schema) => post(root.dataset.preview, schema)));
    });
    return [labelled('Form', forms), open, labelled('Stage', stage, 'The whole number of the stage this task belongs to.'),
      editorHost];
  }

  function timerEditor(element) {
    const bo = element.businessObject;
    const definition = bo.eventDefinitions[0];
    const current = definition.timeDate || definition.timeDuration || definition.timeCycle;
    const kind = select([['working_days', 'working days'], ['day', 'day N (the day raised is day 1)'],
      ['hours', 'hours']], 'working_days');
    const count = node('input', { type: 'number', min: '0', max: '400', step: '1', value: '1' });
    const anchor = select([['stage', 'the stage started'], ['raised', 'the challenge was raised'],
      ['task', 'the task opened'], ['before', 'before another deadline'], ['after', 'after another deadline']],
    'stage');
    const other = node('input', { type: 'text', value: 'stage_due' });
    const apply = node('button', { type: 'button', text: 'Set the deadline' });
    const result = node('p', { role: 'status', 'aria-live': 'polite',
      text: current ? `Now: ${current.body}` : 'No expression yet.' });
    apply.addEventListener('click', async () => {
      const before = anchor.value === 'before';
      const after = anchor.value === 'after';
      const response = await post(root.dataset.deadline, { kind: kind.value, count: Number(count.value),
        anchor: before || after ? other.value.trim() : anchor.value, before, after });
      const answer = await response.json();
      if (!response.ok) { result.textContent = answer.error; return; }
      const expression = moddle.create('bpmn:FormalExpression', { body: answer.expression });
      modeling.updateModdleProperties(element, definition, { timeDate: expression, timeDuration: undefined,
        timeCycle: undefined });
      // An interrupting timer on a user task is that task's deadline: the task shows the same due moment.
      const host = bo.attachedToRef;
      if (bo.cancelActivity !== false && host && host.$type === 'bpmn:UserTask') {
        setProperty(registry.get(host.id), 'due', answer.expression);
      }
      result.textContent = `${answer.expression}: for a challenge raised ${answer.sample_start}, ${answer.sample}.`;
    });
    return [labelled('How many', count), labelled('Unit', kind), labelled('Counted from', anchor),
      labelled('Other deadline', other, 'Before or after another deadline: the variable that holds it.'), apply, result];
  }

  function scriptEditor(element) {
    const bo = element.businessObject;
    const code = node('textarea', { rows: '8', class: 'code', spellcheck: 'false' });
    code.value = bo.script || '';
    code.addEventListener('change', () => modeling.updateProperties(element, { script: code.value,
      scriptFormat: 'python' }));
    const targets = [...draft.notify_targets.filter((t) => !t.startsWith('lane:')),
      ...lanesInDiagram().map((name) => `lane:${name}`)];
    const to = select(targets.map((t) => [t, t]), 'involved');
    const subject = node('input', { type: 'text', value: '{reference}: ' });
    const message = node('textarea', { rows: '3' });
    const add = node('button', { type: 'button', class: 'secondary', text: 'Add this notice to the script' });
    add.addEventListener('click', () => {
      const quote = (text) => JSON.stringify(text);
      const line = `notify(${quote(to.value)}, f${quote(subject.value)}, f${quote(message.value)})`;
      code.value = code.value ? `${code.value}\n${line}` : line;
      modeling.updateProperties(element, { script: code.value, scriptFormat: 'python' });
    });
    return [labelled('Script (for experts: the sandbox\'s refusals are listed under Problems)', code),
      node('h3', { text: 'Tell people' }), labelled('Who is told', to), labelled('Subject', subject),
      labelled('Message', message), add];
  }

  function problemsOf(element) {
    return state.problems.filter((p) => p.element === element.id);
  }

  function showProperties(element) {
    side.replaceChildren();
    if (!element) return;
    const bo = element.businessObject;
    side.append(node('h2', { text: bo.name || bo.id }), node('p', { class: 'caption', text: `${element.type.replace('bpmn:', '')} ${bo.id}` }));
    const here = problemsOf(element);
    if (here.length) side.append(node('ul', { class: 'problems-here' }, here.map((p) => node('li', { text: p.message }))));
    let parts = [];
    if (element.type === 'bpmn:Lane') parts = laneEditor(element);
    else if (element.type === 'bpmn:UserTask') parts = userTaskEditor(element);
    else if (element.type === 'bpmn:ScriptTask') parts = scriptEditor(element);
    else if (element.type === 'bpmn:BoundaryEvent' && bo.eventDefinitions
             && bo.eventDefinitions[0] && bo.eventDefinitions[0].$type === 'bpmn:TimerEventDefinition') {
      parts = timerEditor(element);
    }
    parts.forEach((part) => side.append(part));
  }

  // Every element by name, for the keyboard (and the eye, when the diagram is large).
  const chooser = root.querySelector('#modeler-element');
  function listElements() {
    const chosen = chooser.value;
    chooser.replaceChildren(chooser.options[0]);
    registry.filter((e) => e.businessObject && e.businessObject.id && !e.labelTarget && e.type !== 'bpmn:Process'
      && e.type !== 'bpmn:Collaboration' && e.type !== 'label')
      .map((e) => [e.id, `${e.businessObject.name || e.type.replace('bpmn:', '')} (${e.id})`])
      .sort((a, b) => a[1].localeCompare(b[1]))
      .forEach(([id, text]) => chooser.append(node('option', { value: id, text })));
    chooser.value = chosen;
  }
  listElements();
  modeler.on('commandStack.changed', listElements);
  chooser.addEventListener('change', () => {
    const element = registry.get(chooser.value);
    if (!element) return;
    selection.select(element);
    canvas.scrollToElement(element);
  });
  eventBus.on('selection.changed', ({ newSelection }) => {
    if (newSelection[0] && chooser.value !== newSelection[0].id) chooser.value = newSelection[0].id;
    showProperties(newSelection[0]);
  });

  async function files() {
    const { xml } = await modeler.saveXML({ format: true });
    const names = new Set(lanesInDiagram());
    const lanes = Object.fromEntries(Object.entries(state.lanes).filter(([name]) => names.has(name)));
    return { bpmn: xml, forms: state.forms, lanes, meta: draft.meta, title: draft.title,
      process_id: draft.process_id };
  }

  async function save() {
    const response = await post(root.dataset.save, await files());
    const answer = await response.json();
    if (!response.ok) { status.textContent = `Not saved: ${answer.error}`; return false; }
    state.changed = false;
    status.textContent = 'Draft saved.';
    return true;
  }

  function markProblems() {
    marked.forEach((id) => canvas.removeMarker(id, 'has-problem'));
    overlays.remove({ type: 'problem' });
    marked = [];
    const list = root.querySelector('#modeler-problems');
    list.replaceChildren();
    if (!state.problems.length) list.append(node('li', { text: 'No problems: the draft can be published.' }));
    state.problems.forEach((problem) => {
      const item = node('li', { class: 'problem' });
      if (problem.element && registry.get(problem.element)) {
        canvas.addMarker(problem.element, 'has-problem');
        marked.push(problem.element);
        overlays.add(problem.element, 'problem', { position: { top: -14, left: -6 },
          html: node('span', { class: 'problem-badge', title: problem.message, text: '!' }) });
        const link = node('button', { type: 'button', class: 'link', text: problem.message });
        link.addEventListener('click', () => selection.select(registry.get(problem.element)));
        item.append(link);
      } else {
        item.textContent = problem.message;
      }
      list.append(item);
    });
  }

  async function validate() {
    status.textContent = 'Validating…';
    const found = await lint(modeler.getDefinitions());
    const response = await post(root.dataset.validate, await files());
    state.problems = [...found.filter((f) => f.severity === 'error'), ...(await response.json()).problems];
    state.warnings = found.filter((f) => f.severity !== 'error');
    markProblems();
    const warnings = root.querySelector('#modeler-warnings');
    warnings.replaceChildren(...state.warnings.map((w) => node('li', { text: `${w.element}: ${w.message}` })));
    root.querySelector('#warnings-count').textContent = String(state.warnings.length);
    status.textContent = state.problems.length ? `${state.problems.length} problem(s) found.` : 'Valid.';
    showProperties(selection.get()[0]);
    return state.problems.length === 0;
  }

  root.querySelector('#modeler-save').addEventListener('click', save);
  root.querySelector('#modeler-validate').addEventListener('click', validate);
  document.querySelector('#publish-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    if (await save() && await validate()) {
      state.changed = false;
      event.target.submit();
    }
  });
  root.dataset.ready = 'true';
  window.procedureModeler = modeler; // for the browser tests and the console
}

document.querySelectorAll('[data-modeler]').forEach((root) => { start(root); });
