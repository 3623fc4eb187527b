import { strict as assert } from 'node:assert';
import { escapeHtml, href, html } from '../../../shared/ui/html.js';
import { documentOf, page } from '../../../shared/ui/layout.js';

// Called through another name so that the formatter leaves these exact templates as written.
const h = html;

describe('ui: the html tag escapes every interpolation', () => {
  it('escapes the characters that end text or an attribute', () => {
    assert.equal(
      escapeHtml(`<a href="x" onclick='y'>&\`</a>`),
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;&lt;/a&gt;',
    );
  });

  it('escapes strings from the store but keeps markup built by the tag', () => {
    const name = '<script>alert(1)</script>';
    const cell = h`<td>${name}</td>`;
    assert.equal(cell.toString(), '<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>');
    assert.equal(
      h`<tr>${cell}</tr>`.toString(),
      '<tr><td>&lt;script&gt;alert(1)&lt;/script&gt;</td></tr>',
    );
  });

  it('escapes in attributes, joins lists and drops nothing-values', () => {
    const title = '" onmouseover="x';
    assert.equal(h`<a title="${title}">`.toString(), '<a title="&quot; onmouseover=&quot;x">');
    assert.equal(
      h`<ul>${['<a>', h`<li>b</li>`, undefined, null, false, 0]}</ul>`.toString(),
      '<ul>&lt;a&gt;<li>b</li>0</ul>',
    );
  });

  it('a plain string never passes as markup', () => {
    const text: string = '<b>bold</b>';
    assert.equal(h`${text}`.toString(), '&lt;b&gt;bold&lt;/b&gt;');
  });

  it('encodes query values and leaves out empty ones', () => {
    assert.equal(
      href('/x', { q: 'app=web & b', empty: '', none: undefined }),
      '/x?q=app%3Dweb+%26+b',
    );
    assert.equal(href('/x', {}), '/x');
  });

  it('a page title from the store is escaped in the document head', () => {
    const doc = documentOf(page('</title><script>x</script>', h`<h1>t</h1>`));
    assert.ok(!doc.includes('<script>x'));
    assert.match(doc, /<meta name="viewport"/);
    assert.match(doc, /<main>\s*<h1>t<\/h1>/);
  });
});
