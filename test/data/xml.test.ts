import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseXml, child, children } from '../../lib/data/xml';

test('elements, text, entities, attributes, comments, declarations', () => {
  const r = parseXml('<?xml version="1.0"?>\n<!DOCTYPE x>\n<a k="v &amp; w"><!-- c --><b>1 &lt; 2 &#65;&#x42;</b><b/><c>t</c></a>');
  assert.is(r.name, 'a');
  assert.is(r.attrs.k, 'v & w');
  assert.is(children(r, 'b').length, 2);
  assert.is(child(r, 'b')!.text, '1 < 2 AB');
  assert.is(child(r, 'c')!.line, 3);
});

test('malformed documents fail with a line number', () => {
  assert.throws(() => parseXml('<a>\n<b></a>'), /line 2: <\/a> closes <b> opened on line 2/);
  assert.throws(() => parseXml('<a>\n<b>'), /<b> \(line 2\) is never closed/);
  assert.throws(() => parseXml('</a>'), /without an opening tag/);
  assert.throws(() => parseXml('<a/><b/>'), /second root/);
  assert.throws(() => parseXml('text<a/>'), /text outside the root/);
  assert.throws(() => parseXml('<a>&bogus;</a>'), /unknown entity/);
  assert.throws(() => parseXml(''), /no root element/);
});

test.run();
