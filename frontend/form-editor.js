// The form editor: a user task's JSON Schema edited as fields (name, label, help, type, required, choices) or as
// raw JSON, with a live preview that the server draws with the code that draws the form for practitioners.

const TYPES = [
  ['text', 'Short text'], ['textarea', 'Long text'], ['integer', 'Whole number'], ['boolean', 'Yes or no'],
  ['date', 'Date'], ['choice', 'One of some choices'],
];

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  Object.entries(attrs).forEach(([key, value]) => {
    if (key === 'text') node.textContent = value;
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? '' : value);
  });
  children.forEach((child) => node.append(child));
  return node;
}

let counter = 0;
function field(label, control) {
  counter += 1;
  control.id = `fe-${counter}`;
  return el('div', { class: 'field' }, [el('label', { for: control.id, text: label }), control]);
}

function kindOf(prop) {
  if (prop.enum) return 'choice';
  if (prop.type === 'integer' || prop.type === 'boolean') return prop.type;
  if (prop.format === 'date') return 'date';
  return prop['x-widget'] === 'textarea' ? 'textarea' : 'text';
}

// Schema -> rows, rows -> schema; keys of a property the editor does not know are kept as they were.
function rowsOf(schema) {
  const required = new Set(schema.required || []);
  return Object.entries(schema.properties || {}).map(([name, prop]) => ({
    name, label: prop.title || '', help: prop.description || '', kind: kindOf(prop), required: required.has(name),
    choices: (prop.enum || []).map((v) => ((prop['x-labels'] || {})[v] ? `${v}=${prop['x-labels'][v]}` : String(v))).join('\n'),
    rest: prop,
  }));
}

function schemaOf(base, rows) {
  const properties = {};
  rows.forEach((row) => {
    const prop = { ...row.rest };
    ['type', 'format', 'enum', 'x-labels', 'x-widget', 'title', 'description'].forEach((k) => delete prop[k]);
    prop.type = row.kind === 'integer' || row.kind === 'boolean' ? row.kind : 'string';
    if (row.label) prop.title = row.label;
    if (row.help) prop.description = row.help;
    if (row.kind === 'date') prop.format = 'date';
    if (row.kind === 'textarea') prop['x-widget'] = 'textarea';
    if (row.kind === 'choice') {
      const pairs = row.choices.split('\n').map((line) => line.trim()).filter(Boolean).map((line) => line.split('='));
      prop.enum = pairs.map(([value]) => value.trim());
      const labels = Object.fromEntries(pairs.filter((p) => p.length > 1).map(([v, ...l]) => [v.trim(), l.join('=').trim()]));
      if (Object.keys(labels).length) prop['x-labels'] = labels;
    }
    properties[row.name] = prop;
  });
  return { ...base, type: 'object', properties, required: rows.filter((r) => r.required).map((r) => r.name) };
}

export function formEditor(name, schema, onChange, preview) {
  let current = schema;
  let rows = rowsOf(schema);
  const root = el('section', { class: 'form-editor', 'aria-label': `Form ${name}` });
  const list = el('div', { class: 'form-fields' });
  const raw = el('textarea', { rows: '12', class: 'code', spellcheck: 'false' });
  const rawError = el('p', { class: 'error', role: 'alert' });
  const shown = el('div', { class: 'form-preview', 'aria-live': 'polite' });

  async function refresh() {
    raw.value = JSON.stringify(current, null, 2);
    const response = await preview(current);
    if (response.ok) shown.innerHTML = await response.text(); // the server's own escaped HTML
    else shown.textContent = (await response.json()).error;
  }

  function changed() {
    current = schemaOf(current, rows);
    onChange(current);
    refresh();
  }

  function draw() {
    list.replaceChildren();
    rows.forEach((row, index) => {
      const box = el('fieldset', { class: 'form-field' }, [el('legend', { text: row.label || row.name || 'New field' })]);
      const nameInput = el('input', { type: 'text', value: row.name, pattern: '[a-z][a-z0-9_]*' });
      const label = el('input', { type: 'text', value: row.label });
      const help = el('input', { type: 'text', value: row.help });
      const kind = el('select', {}, TYPES.map(([value, text]) => el('option', { value, text, selected: value === row.kind })));
      const required = el('input', { type: 'checkbox', checked: row.required });
      const choices = el('textarea', { rows: '3' });
      choices.value = row.choices;
      const remove = el('button', { type: 'button', class: 'secondary', text: 'Remove this field' });
      nameInput.addEventListener('change', () => { row.name = nameInput.value.trim(); changed(); });
      label.addEventListener('change', () => { row.label = label.value; changed(); });
      help.addEventListener('change', () => { row.help = help.value; changed(); });
      kind.addEventListener('change', () => { row.kind = kind.value; changed(); });
      required.addEventListener('change', () => { row.required = required.checked; changed(); });
      choices.addEventListener('change', () => { row.choices = choices.value; changed(); });
      remove.addEventListener('click', () => { rows.splice(index, 1); draw(); changed(); });
      box.append(field('Name (in the record)', nameInput), field('Label', label), field('Help', help),
        field('Type', kind), field('Required', required),
        field('Choices, one a line (value=label)', choices), remove);
      list.append(box);
    });
  }

  const add = el('button', { type: 'button', class: 'secondary', text: 'Add a field' });
  add.addEventListener('click', () => {
    rows.push({ name: `field_${rows.length + 1}`, label: '', help: '', kind: 'text', required: false, choices: '', rest: {} });
    draw();
    changed();
  });
  raw.addEventListener('change', () => {
    try {
      const parsed = JSON.parse(raw.value);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      current = parsed;
      rows = rowsOf(current);
      rawError.textContent = '';
      onChange(current);
      draw();
      refresh();
    } catch (error) {
      rawError.textContent = `Not valid JSON: ${error.message}`;
    }
  });
  root.append(el('h3', { text: `Form ${name}` }), list, add,
    el('details', {}, [el('summary', { text: 'Raw JSON Schema' }), field('JSON Schema', raw), rawError]),
    el('h3', { text: 'Preview' }), shown);
  draw();
  refresh();
  return root;
}
