// The CSS and script of the language-model views, added to HtmlPage's own. The script reads only
// data-* attributes (numbers) and element text, and writes text with textContent, never innerHTML.
// Its shade() is ColorScale.TokenCss in JavaScript, so the shading matches the explainers' pages.
namespace Glassbox.Render;

internal static class LmPageAssets
{
    public const string Css = """
.lm-view { margin-bottom: 22px; }
.lm-help { color: #555; font-size: 13px; margin: 2px 0 8px; max-width: 980px; }
.lm-controls { margin: 4px 0 8px; font-size: 14px; }
.lm-controls select { font-size: 14px; }
.lm-caption { font-size: 14px; margin: 6px 0; }
.lm-quote { font-family: ui-monospace, monospace; background: #f3f5f8; padding: 0 3px; white-space: pre; }
mark.lm-tok { background-color: #fff; }
.lm-text mark.lm-tok.output { border-bottom: 3px solid #3b6fb6; cursor: pointer; font-weight: 600; }
.lm-text mark.lm-tok.lm-selected { outline: 2px solid #3b6fb6; outline-offset: 1px; }
.lm-text mark.lm-tok.lm-future { opacity: 0.35; }
table.lm-bars mark.tok { background: #f3f5f8; }
table.lm-bars td.lm-bar-cell { width: 320px; }
.lm-bar { height: 12px; min-width: 1px; border: 1px solid #bbb; box-sizing: border-box; }
table.lm-lp-table td.lm-logit { position: relative; min-width: 74px; padding: 4px 6px 4px 10px; font-family: ui-monospace, monospace; font-size: 13px; background: #fafafa; }
td.lm-logit .lm-logit-bar { position: absolute; left: 2px; bottom: 4px; width: 3px; background: #ec008c; max-height: calc(100% - 8px); }
td.lm-logit .lm-logit-tok { display: block; white-space: pre; }
td.lm-logit .lm-logit-prob { display: block; font-family: system-ui, sans-serif; font-size: 10px; color: #b0006a; }
td.lm-logit.lm-chosen { box-shadow: inset 0 0 0 2px #3b6fb6; }
table.lm-heat td { text-align: center; min-width: 40px; font-size: 12px; padding: 3px 5px; border: 1px solid #f0f0f0; font-variant-numeric: tabular-nums; }
table.lm-heat th { font-size: 12px; }
table.lm-heat th.lm-axis-tok { white-space: pre; font-family: ui-monospace, monospace; text-align: center; background: #fff; }
table.lm-heat th.lm-axis { color: #666; font-weight: 400; background: #fff; }
table.lm-heat th.lm-out { font-weight: 700; }
.lm-colorbar { display: inline-block; width: 220px; height: 14px; border: 1px solid #bbb; vertical-align: middle; margin-left: 8px; }
.lm-colorbar-labels { color: #555; }
.lm-context { font-family: ui-monospace, monospace; white-space: pre-wrap; color: #333; }
svg.lm-watch-chart { display: block; margin: 8px 0; }
.lm-factors { display: flex; flex-wrap: wrap; gap: 6px 14px; margin-top: 8px; }
.lm-factor { display: flex; align-items: center; gap: 6px; font-size: 13px; padding: 2px 6px; border: 1px solid #e4e4e4; border-radius: 3px; cursor: pointer; }
.lm-factor.active { border-color: #3b6fb6; background: #f3f5f8; }
.lm-factor .swatch { display: inline-block; width: 12px; height: 12px; }
""";

    public const string Script = """
(function () {
  function shade(score) {
    if (!(score === score)) score = 0;
    score = Math.max(-1, Math.min(1, score));
    var hue = score > 0 ? 120 : 0;
    var light = score > 0 ? 100 - Math.trunc(50 * score) : 100 - Math.trunc(40 * -score);
    return 'hsl(' + hue + ', 75%, ' + light + '%)';
  }
  function nums(el, name) {
    var s = el.getAttribute(name);
    if (!s) return [];
    return s.split(' ').map(function (x) { var v = parseFloat(x); return isFinite(v) ? v : 0; });
  }
  function maxOf(xs) { var m = 0; xs.forEach(function (v) { if (v > m) m = v; }); return m; }
  function pct(v) { return (100 * v).toFixed(2) + '%'; }
  function sci(v) { return isFinite(v) ? v.toExponential(4) : ''; }
  function label(el) { var t = el.querySelector('.lm-t'); return t ? t.textContent : ''; }
  function each(list, f) { Array.prototype.forEach.call(list, f); }

  var lensSelect = document.getElementById('lm-lp-position');
  function showLens(pos) {
    if (!lensSelect) return;
    var known = false;
    each(lensSelect.options, function (o) { if (o.value === String(pos)) known = true; });
    if (!known) return;
    lensSelect.value = String(pos);
    each(document.querySelectorAll('.lm-lp'), function (d) { d.hidden = d.getAttribute('data-pos') !== String(pos); });
  }
  if (lensSelect) lensSelect.addEventListener('change', function () { showLens(lensSelect.value); });

  var text = document.getElementById('lm-text');
  if (text) {
    var toks = Array.prototype.slice.call(text.querySelectorAll('mark.lm-tok'));
    var methodSelect = document.getElementById('lm-method');
    var caption = document.getElementById('lm-attr-caption');
    var barsBody = document.getElementById('lm-bars-body');
    var barsCaption = document.getElementById('lm-bars-caption');
    var first = parseInt(text.getAttribute('data-first'), 10);
    var selected = -1;
    var method = function () { return methodSelect ? methodSelect.value : text.getAttribute('data-method'); };
    var methodName = function () { return methodSelect ? methodSelect.options[methodSelect.selectedIndex].text : (text.getAttribute('data-method-name') || ''); };
    var bars = function (vals, raws, max, upTo) {
      barsBody.textContent = '';
      for (var i = 0; i < upTo; i++) {
        var tr = document.createElement('tr');
        tr.setAttribute('data-pos', String(i));
        var cells = [0, 1, 2, 3, 4].map(function () { return document.createElement('td'); });
        cells[0].className = 'num'; cells[0].textContent = String(i);
        var mk = document.createElement('mark'); mk.className = 'tok'; mk.textContent = label(toks[i]); cells[1].appendChild(mk);
        cells[2].className = 'lm-bar-cell';
        var bar = document.createElement('div'); bar.className = 'lm-bar';
        bar.style.width = (100 * vals[i] / max).toFixed(2) + '%'; bar.style.backgroundColor = shade(vals[i] / max);
        cells[2].appendChild(bar);
        cells[3].className = 'num'; cells[3].textContent = pct(vals[i]);
        cells[4].className = 'num'; cells[4].textContent = i < raws.length ? sci(raws[i]) : '';
        cells.forEach(function (c) { tr.appendChild(c); });
        barsBody.appendChild(tr);
      }
    };
    var show = function (pos) {
      var tok = toks[pos];
      if (!tok || !tok.classList.contains('output')) return;
      var m = method();
      var vals = m ? nums(tok, 'data-attr-' + m) : [], raws = m ? nums(tok, 'data-raw-' + m) : [];
      var max = Math.max(1e-12, maxOf(vals)), upTo = Math.min(pos, vals.length);
      toks.forEach(function (t, i) {
        t.classList.toggle('lm-selected', i === pos);
        t.classList.toggle('lm-future', i > pos);
        var sub = t.querySelector('sub.score');
        if (i < upTo) {
          var s = vals[i] / max;
          t.style.backgroundColor = shade(s);
          t.setAttribute('data-shade', s.toFixed(6));
          if (sub) sub.textContent = pct(vals[i]);
        } else {
          t.style.backgroundColor = '';
          t.removeAttribute('data-shade');
          if (sub) sub.textContent = '';
        }
      });
      text.setAttribute('data-shown', String(pos));
      if (!m) return;
      var prob = parseFloat(tok.getAttribute('data-prob')), delta = tok.getAttribute('data-delta-' + m);
      var what = 'Attribution of \u201c' + label(tok) + '\u201d (position ' + pos + (isFinite(prob) ? ', probability ' + prob.toFixed(4) : '') +
        ') to the ' + upTo + ' earlier tokens, ' + methodName() + (delta !== null ? ', convergence delta ' + sci(parseFloat(delta)) : '') + '.';
      if (caption) caption.textContent = what;
      if (barsCaption) barsCaption.textContent = what;
      if (barsBody) bars(vals, raws, max, upTo);
    };
    var outputAt = function (e) {
      var t = e.target && e.target.closest ? e.target.closest('mark.lm-tok.output') : null;
      return t && text.contains(t) ? parseInt(t.getAttribute('data-pos'), 10) : -1;
    };
    var select = function (pos) { selected = pos; show(pos); showLens(pos); };
    text.addEventListener('mouseover', function (e) { var p = outputAt(e); if (p >= 0) show(p); });
    text.addEventListener('mouseleave', function () { if (selected >= 0) show(selected); });
    text.addEventListener('focusin', function (e) { var p = outputAt(e); if (p >= 0) show(p); });
    text.addEventListener('click', function (e) { var p = outputAt(e); if (p >= 0) select(p); });
    text.addEventListener('keydown', function (e) {
      if (e.key !== 'Enter' && e.key !== ' ') return;
      var p = outputAt(e);
      if (p >= 0) { e.preventDefault(); select(p); }
    });
    if (methodSelect) methodSelect.addEventListener('change', function () { if (selected >= 0) show(selected); });
    if (first < toks.length) { selected = first; show(first); }
  }

  var nmf = document.getElementById('lm-nmf-text');
  if (nmf) {
    var colors = (nmf.getAttribute('data-colors') || '').split(' ');
    var ntoks = Array.prototype.slice.call(nmf.querySelectorAll('mark.lm-tok'));
    var values = ntoks.map(function (t) { return nums(t, 'data-f'); });
    var maxes = colors.map(function (_, k) { return maxOf(values.map(function (v) { return v[k] || 0; })); });
    var factorSelect = document.getElementById('lm-nmf-factor');
    var items = document.querySelectorAll('.lm-factor');
    var mix = function (hex, t) {
      t = Math.max(0, Math.min(1, t));
      var c = [1, 3, 5].map(function (i) { return Math.round(255 + (parseInt(hex.substr(i, 2), 16) - 255) * t); });
      return c;
    };
    var paint = function (which) {
      ntoks.forEach(function (t, i) {
        var v = values[i], k = 0;
        if (which === 'all') { for (var c = 1; c < v.length; c++) if (v[c] > v[k]) k = c; } else k = parseInt(which, 10);
        var s = maxes[k] > 0 ? (v[k] || 0) / maxes[k] : 0, rgb = mix(colors[k], s);
        t.style.backgroundColor = 'rgb(' + rgb.join(', ') + ')';
        t.style.color = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2] < 128 ? '#fff' : '';
        t.setAttribute('data-factor', String(k));
        t.setAttribute('data-shade', s.toFixed(6));
        var sub = t.querySelector('sub.score');
        if (sub) sub.textContent = (v[k] || 0).toPrecision(3);
      });
      each(items, function (it) { it.classList.toggle('active', it.getAttribute('data-factor') === which); });
    };
    if (factorSelect) factorSelect.addEventListener('change', function () { paint(factorSelect.value); });
    each(items, function (it) {
      var k = it.getAttribute('data-factor');
      it.addEventListener('mouseenter', function () { paint(k); });
      it.addEventListener('mouseleave', function () { paint(factorSelect ? factorSelect.value : 'all'); });
      it.addEventListener('click', function () { if (factorSelect) factorSelect.value = k; paint(k); });
    });
    paint(factorSelect ? factorSelect.value : 'all');
  }
})();
""";
}
