// Screenshots of OHIF 3.13 showing one study, optionally with a SEG and/or an SR loaded, taken with the system
// chromium driven by playwright-core (never a downloaded browser). Run through deploy_scripts/ohif_screenshot.sh,
// which provides playwright-core. Writes PNGs, console.log (every browser console message, page error and failed
// HTTP request) and summary.json into the output folder. Exit code: 0 when the viewer showed the study and every
// requested SEG/SR was found and loaded, 1 otherwise, 2 on a usage error.
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require(process.env.PLAYWRIGHT_CORE_DIR || 'playwright-core');

const usage = `usage: ohif_screenshot.sh --study UID [--base URL] [--out DIR] [--seg [TEXT]] [--sr [TEXT]]
                         [--size WxH] [--timeout SECONDS] [--settle SECONDS]
  --study UID     StudyInstanceUID to open (viewer?StudyInstanceUIDs=UID)
  --base URL      OHIF origin (default http://127.0.0.1:3000)
  --out DIR       output folder (default /tmp/ohif-screenshots/UID)
  --seg [TEXT]    also load the SEG display set (the first one, or the one whose description contains TEXT)
  --sr [TEXT]     also load the SR display set (same matching)
  --size WxH      window size (default 1400x900)
  --timeout S     how long to wait for the viewer and for each load (default 90)
  --settle S      extra wait after each step for rendering (default 3)`;

function parseArgs(argv) {
  const o = { base: 'http://127.0.0.1:3000', width: 1400, height: 900, timeout: 90, settle: 3 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const optional = () => (argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[++i] : '');
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--study': o.study = value(); break;
      case '--base': o.base = value().replace(/\/$/, ''); break;
      case '--out': o.out = value(); break;
      case '--seg': o.seg = optional(); break;
      case '--sr': o.sr = optional(); break;
      case '--size': {
        const m = /^(\d+)x(\d+)$/.exec(value());
        if (!m) throw new Error('--size is WIDTHxHEIGHT');
        o.width = +m[1];
        o.height = +m[2];
        break;
      }
      case '--timeout': o.timeout = +value(); break;
      case '--settle': o.settle = +value(); break;
      case '-h': case '--help': console.log(usage); process.exit(0); break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  if (!o.study) throw new Error('--study is required');
  o.out = o.out || path.join('/tmp/ohif-screenshots', o.study);
  return o;
}

// OHIF's first-visit tour and its "investigational use" banner cover the viewport: close them when present.
async function dismissOverlays(page) {
  for (const text of ['Skip all', 'Confirm and hide']) {
    const button = page.getByText(text, { exact: true });
    if (await button.count()) await button.first().click({ timeout: 2000 }).catch(() => {});
  }
}

async function settle(page, o) {
  await page.waitForLoadState('networkidle', { timeout: o.timeout * 1000 }).catch(() => {});
  await page.waitForTimeout(o.settle * 1000);
}

// Double-clicks the study-browser entry of a SEG/SR display set, accepts OHIF's "Do you want to open this ...?"
// hydration prompt, and reports what happened.
async function loadDisplaySet(page, o, modality, text, shot) {
  const result = { modality, match: text || null, found: false, prompt: null, hydrated: false, loaded: false, screenshot: null };
  let entries = page.locator('[data-cy^="study-browser-thumbnail"]').filter({
    has: page.locator('[data-cy="series-modality-label"]', { hasText: new RegExp(`^\\s*${modality}\\s*$`) }),
  });
  if (text) entries = entries.filter({ hasText: text });
  result.candidates = await entries.allInnerTexts().then(t => t.map(s => s.replace(/\s+/g, ' ').trim()));
  if (result.candidates.length === 0) return result;
  result.found = true;
  await entries.first().dblclick();
  const yes = page.locator('[data-cy="yes-hydrate-btn"]');
  try {
    // SEG always asks; an SR asks only when it holds measurements OHIF can track, so do not wait long.
    await yes.waitFor({ state: 'visible', timeout: Math.min(o.timeout, modality === 'SEG' ? 60 : 10) * 1000 });
    result.prompt = (await page.locator('[data-cy="viewport-notification"]').first().innerText()).replace(/\s+/g, ' ').trim();
    await page.screenshot({ path: path.join(o.out, shot.replace('.png', '-prompt.png')) });
    await yes.click();
    result.hydrated = true;
  } catch (e) {
    result.note = `no hydration prompt: ${e.message.split('\n')[0]}`;
  }
  await settle(page, o);
  await dismissOverlays(page);
  result.screenshot = path.join(o.out, shot);
  await page.screenshot({ path: result.screenshot });
  result.viewportText = (await page.locator('[data-cy="viewport-grid"]').innerText().catch(() => '')).replace(/\s+/g, ' ').trim();
  // Loaded: hydrated into the image viewport, or shown in its own viewport (OHIF puts a modality badge on it).
  result.loaded = result.hydrated || new RegExp(`\\b${modality}\\b`).test(result.viewportText);
  // The right-hand panel lists the segments (SEG) or the measurements (SR): open it for a second screenshot.
  const panelButton = page.locator(`[data-cy="${modality === 'SEG' ? 'panelSegmentation-btn' : 'trackedMeasurements-btn'}"]`);
  if (await panelButton.count()) {
    await panelButton.first().click({ timeout: 5000 }).catch(() => {});
    await page.waitForTimeout(1000);
    result.panelText = await page.evaluate(() => {
      // The panel's own container: the nearest ancestor of its header that holds more than the header.
      let e = document.querySelector('[data-cy="side-panel-header-right"]');
      for (let i = 0; e && i < 5 && (e.innerText || '').trim().length < 20; i++) e = e.parentElement;
      return e ? e.innerText.replace(/\s+/g, ' ').trim().slice(0, 2000) : '';
    }).catch(() => '');
    result.panelScreenshot = path.join(o.out, shot.replace('.png', '-panel.png'));
    await page.screenshot({ path: result.panelScreenshot });
    await panelButton.first().click({ timeout: 5000 }).catch(() => {});
  }
  return result;
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`ohif_screenshot: ${e.message}\n${usage}`);
    process.exit(2);
  }
  fs.mkdirSync(o.out, { recursive: true });
  const log = [];
  const errors = [];
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // SwiftShader gives WebGL without a GPU; OHIF's cornerstone needs WebGL.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  });
  const summary = { study: o.study, url: `${o.base}/viewer?StudyInstanceUIDs=${encodeURIComponent(o.study)}`, ok: false };
  try {
    const page = await browser.newPage({ viewport: { width: o.width, height: o.height } });
    page.on('console', m => {
      const line = `[${m.type()}] ${m.text()}`;
      log.push(line);
      // OHIF reports a crashed view (its error boundary) at debug level, not as an error.
      if (m.type() === 'error' || /Error Boundary|Something went wrong/.test(m.text())) errors.push(line.split('\n')[0]);
    });
    page.on('pageerror', e => {
      log.push(`[pageerror] ${e.message}`);
      errors.push(`[pageerror] ${e.message}`);
    });
    page.on('response', r => {
      if (r.status() >= 400) {
        const line = `[http ${r.status()}] ${r.request().method()} ${r.url()}`;
        log.push(line);
        errors.push(line);
      }
    });
    page.on('requestfailed', r => {
      const line = `[requestfailed] ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`;
      log.push(line);
      errors.push(line);
    });

    const started = Date.now();
    await page.goto(summary.url, { timeout: o.timeout * 1000 });
    try {
      await page.locator('[data-cy="viewport-pane"] canvas').first().waitFor({ state: 'attached', timeout: o.timeout * 1000 });
      summary.viewerLoaded = true;
    } catch (e) {
      summary.viewerLoaded = false;
      summary.viewerError = e.message.split('\n')[0];
    }
    await settle(page, o);
    await dismissOverlays(page);
    summary.secondsToViewer = (Date.now() - started) / 1000;
    summary.studyBrowser = (await page.locator('[data-cy="studyBrowser-panel"]').innerText().catch(() => ''))
      .replace(/\s+/g, ' ').trim();
    summary.viewportText = (await page.locator('[data-cy="viewport-grid"]').innerText().catch(() => '')).replace(/\s+/g, ' ').trim();
    summary.screenshots = [path.join(o.out, '01-viewer.png')];
    await page.screenshot({ path: summary.screenshots[0] });

    let loadsOk = true;
    if (o.seg !== undefined) {
      summary.seg = await loadDisplaySet(page, o, 'SEG', o.seg, '02-seg.png');
      loadsOk = loadsOk && summary.seg.loaded === true;
      summary.screenshots.push(...[summary.seg.screenshot, summary.seg.panelScreenshot].filter(Boolean));
    }
    if (o.sr !== undefined) {
      summary.sr = await loadDisplaySet(page, o, 'SR', o.sr, '03-sr.png');
      loadsOk = loadsOk && summary.sr.loaded === true;
      summary.screenshots.push(...[summary.sr.screenshot, summary.sr.panelScreenshot].filter(Boolean));
    }
    summary.ok = summary.viewerLoaded && loadsOk;
  } finally {
    summary.errors = errors;
    fs.writeFileSync(path.join(o.out, 'console.log'), log.join('\n') + '\n');
    fs.writeFileSync(path.join(o.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    await browser.close();
  }
  console.log(`ohif_screenshot: ${summary.ok ? 'ok' : 'FAILED'}; ${summary.screenshots?.length ?? 0} screenshot(s), ` +
    `${errors.length} console error(s); see ${o.out}/summary.json`);
  process.exit(summary.ok ? 0 : 1);
}

main().catch(e => {
  console.error(`ohif_screenshot: ${e.stack || e}`);
  process.exit(1);
});
