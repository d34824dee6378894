// `domify` (markup text -> DOM nodes) for every bundled package, under a Content-Security-Policy with no inline
// styles: the bundles take it in place of the npm `domify` (an esbuild alias in the Makefile). Each style
// attribute of the markup is taken out before it is parsed and set again through the CSSOM, which the policy
// allows (a style attribute in parsed markup is what it refuses).
const SVG_TAGS = new Set(['g', 'path', 'rect', 'circle', 'ellipse', 'line', 'polygon', 'polyline', 'text', 'defs',
  'marker', 'use']);
const STYLE_ATTRIBUTE = /(<[^>]*?\s)style\s*=\s*("([^"]*)"|'([^']*)')/g;

export default function domify(html, doc = document) {
  if (typeof html !== 'string') throw new TypeError('String expected');
  const styles = [];
  let markup = html.trim();
  let before;
  do { // a tag may carry several attributes; take each style out in turn
    before = markup;
    markup = markup.replace(STYLE_ATTRIBUTE, (match, start, quoted, double, single) => {
      styles.push(double !== undefined ? double : single);
      return `${start}data-csp-style="${styles.length - 1}"`;
    });
  } while (markup !== before);
  const template = doc.createElement('template');
  const tag = (/<([\w:]+)/.exec(markup) || [])[1];
  const svg = tag && SVG_TAGS.has(tag.toLowerCase());
  template.innerHTML = svg ? `<svg xmlns="http://www.w3.org/2000/svg">${markup}</svg>` : markup;
  const content = svg ? template.content.firstChild : template.content;
  content.querySelectorAll('[data-csp-style]').forEach((node) => {
    node.style.cssText = styles[Number(node.getAttribute('data-csp-style'))];
    node.removeAttribute('data-csp-style');
  });
  const fragment = doc.createDocumentFragment();
  Array.from(content.childNodes).forEach((node) => fragment.append(node));
  return fragment.childNodes.length === 1 ? fragment.removeChild(fragment.firstChild) : fragment;
}
