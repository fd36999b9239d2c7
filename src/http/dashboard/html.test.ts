import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeHtml, htmlPage } from './html.ts';

describe('escapeHtml', () => {
  it('escapes every character that can end text or an attribute', () => {
    assert.equal(escapeHtml(`<script>alert("x")</script> & 'y'`), '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;');
  });

  it('a page escapes its title and stylesheet paths and has no script', () => {
    const page = htmlPage('<b>', ['/a".css'], '<p>ok</p>');
    assert.match(page, /<title>&lt;b&gt;<\/title>/);
    assert.match(page, /href="\/a&quot;\.css"/);
    assert.doesNotMatch(page, /<script/);
  });
});
