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

// What the reader sees in the (first) image viewport, read from OHIF's own objects (window.cornerstone, window.services):
// the image shown (index, SOP Instance UID), its window, the segments OHIF holds (label, colour, voxels on this image
// and on their largest image) and the text boxes drawn over the image (one array of lines each: SR outline labels).
async function viewState(page) {
  return page.evaluate(() => {
    const cs = window.cornerstone;
    const viewport = cs?.getRenderingEngines().flatMap(e => e.getViewports()).find(v => typeof v.getCurrentImageId === 'function');
    if (!viewport) return null;
    const imageId = viewport.getCurrentImageId();
    const range = viewport.getProperties().voiRange;
    const service = window.services?.segmentationService;
    const segments = [];
    for (const segmentation of service?.getSegmentations() ?? []) {
      const labelmap = window.cornerstoneTools.segmentation.state.getSegmentation(segmentation.segmentationId)?.representationData?.Labelmap;
      const here = {};
      const largest = {};
      for (const id of labelmap?.imageIds ?? []) {
        const slice = cs.cache.getImage(id);
        if (!slice) continue;
        const data = slice.voxelManager ? slice.voxelManager.getScalarData() : slice.getPixelData();
        const counts = {};
        for (let i = 0; i < data.length; i++) if (data[i] !== 0) counts[data[i]] = (counts[data[i]] || 0) + 1;
        for (const [value, n] of Object.entries(counts)) {
          largest[value] = Math.max(largest[value] || 0, n);
          if (slice.referencedImageId === imageId) here[value] = n;
        }
      }
      for (const segment of Object.values(segmentation.segments)) {
        segments.push({
          segmentation: segmentation.label,
          number: segment.segmentIndex,
          label: segment.label,
          active: !!segment.active,
          colour: service.getSegmentColor(viewport.id, segmentation.segmentationId, segment.segmentIndex),
          voxelsHere: here[segment.segmentIndex] || 0,
          voxelsOnLargestImage: largest[segment.segmentIndex] || 0,
        });
      }
    }
    const textBoxes = [...viewport.element.querySelectorAll('svg text')].map(t => {
      const spans = [...t.querySelectorAll('tspan')].map(x => x.textContent);
      return spans.length ? spans : [t.textContent];
    }).filter(lines => lines.some(l => l.trim()));
    return {
      imageIndex: viewport.getCurrentImageIdIndex(),
      imageCount: viewport.getImageIds().length,
      sopInstanceUid: cs.metaData.get('sopCommonModule', imageId)?.sopInstanceUID ?? null,
      voiRange: range ? { lower: range.lower, upper: range.upper } : null,
      segments,
      textBoxes,
    };
  }).catch(e => ({ error: e.message }));
}

// Moving within a loaded study needs no network: a shorter wait than after a load.
const visitSettle = o => Math.min(o.settle, 1.5) * 1000;

const squash = s => (s || '').replace(/\s+/g, ' ').trim();

async function shoot(page, o, name) {
  const file = path.join(o.out, name);
  await page.screenshot({ path: file });
  return file;
}

// Double-clicks the study-browser entry of a SEG/SR display set, accepts OHIF's "Do you want to open this ...?"
// hydration prompt, and reports what happened and what the viewer shows.
async function loadDisplaySet(page, o, modality, text, shot) {
  const result = { modality, match: text || null, found: false, prompt: null, hydrated: false, loaded: false, screenshot: null };
  let entries = page.locator('[data-cy^="study-browser-thumbnail"]').filter({
    has: page.locator('[data-cy="series-modality-label"]', { hasText: new RegExp(`^\\s*${modality}\\s*$`) }),
  });
  if (text) entries = entries.filter({ hasText: text });
  result.candidates = await entries.allInnerTexts().then(t => t.map(squash));
  if (result.candidates.length === 0) return result;
  result.found = true;
  await entries.first().dblclick();
  const yes = page.locator('[data-cy="yes-hydrate-btn"]');
  try {
    // SEG always asks; an SR asks only when it holds measurements OHIF can track, so do not wait long.
    await yes.waitFor({ state: 'visible', timeout: Math.min(o.timeout, modality === 'SEG' ? 60 : 10) * 1000 });
    result.prompt = squash(await page.locator('[data-cy="viewport-notification"]').first().innerText());
    await shoot(page, o, shot.replace('.png', '-prompt.png'));
    await yes.click();
    result.hydrated = true;
  } catch (e) {
    result.note = `no hydration prompt: ${e.message.split('\n')[0]}`;
  }
  await settle(page, o);
  await dismissOverlays(page);
  result.screenshot = await shoot(page, o, shot);
  result.viewportText = squash(await page.locator('[data-cy="viewport-grid"]').innerText().catch(() => ''));
  result.view = await viewState(page);
  // Loaded: hydrated into the image viewport, or shown in its own viewport (OHIF puts a modality badge on it).
  result.loaded = result.hydrated || new RegExp(`\\b${modality}\\b`).test(result.viewportText);
  result.screenshots = [result.screenshot];
  return result;
}

// The segmentation panel as a reader sees it (each segment's number, name and colour dot), then each segment clicked
// in turn: OHIF moves the view to that segment's centre, as it does for a reader.
async function visitSegments(page, o, result) {
  const button = page.locator('[data-cy="panelSegmentation-btn"]');
  if (!(await button.count())) return;
  await button.first().click({ timeout: 5000 }).catch(() => {});
  await page.waitForTimeout(1000);
  const rows = page.locator('[data-cy="data-row"]');
  result.panelSegments = await rows.evaluateAll(elements => elements.map(row => ({
    title: row.querySelector('[data-cy="data-row-title"]')?.textContent.trim() ?? '',
    colour: row.querySelector('[data-cy="data-row-colorhex"]') ? getComputedStyle(row.querySelector('[data-cy="data-row-colorhex"]')).backgroundColor : null,
  })));
  result.panelText = await page.evaluate(() => {
    // The panel's own container: the nearest ancestor of its header that holds more than the header.
    let e = document.querySelector('[data-cy="side-panel-header-right"]');
    for (let i = 0; e && i < 5 && (e.innerText || '').trim().length < 20; i++) e = e.parentElement;
    return e ? e.innerText.replace(/\s+/g, ' ').trim().slice(0, 2000) : '';
  }).catch(() => '');
  result.panelScreenshot = await shoot(page, o, '02-seg-panel.png');
  result.screenshots.push(result.panelScreenshot);
  result.segmentViews = [];
  for (let i = 0; i < result.panelSegments.length; i++) {
    await rows.nth(i).locator('[data-cy="data-row-title"]').click({ timeout: 5000 }).catch(() => {});
    // Away from the row, whose hover card (the segment's statistics) would cover the image.
    await page.mouse.move(5, o.height - 5);
    await page.waitForTimeout(visitSettle(o));
    const screenshot = await shoot(page, o, `02-seg-segment-${i + 1}.png`);
    result.screenshots.push(screenshot);
    result.segmentViews.push({ title: result.panelSegments[i].title, screenshot, view: await viewState(page) });
  }
  // Close the panel again (its close icon), so the next views get the whole width.
  await page.locator('[data-cy="side-panel-header-right"]').first().click({ timeout: 5000 }).catch(() => {});
  await page.waitForTimeout(500);
}

// Each measurement of the SR in turn with the viewport's "next" arrow, as a reader steps through them: OHIF shows the
// image each outline was drawn on, with its label.
async function visitMeasurements(page, o, result) {
  const count = await page.evaluate(() => new Set((window.cornerstoneTools?.annotation.state.getAllAnnotations() ?? [])
    .filter(a => a.metadata?.toolName === 'DICOMSRDisplay').map(a => a.annotationUID)).size).catch(() => 0);
  result.measurementViews = [{ screenshot: result.screenshot, view: result.view }];
  const next = page.locator('[data-cy="viewport-action-arrows-right"]');
  for (let i = 1; i < count && (await next.count()); i++) {
    await next.first().click({ timeout: 5000 }).catch(() => {});
    await page.waitForTimeout(visitSettle(o));
    const screenshot = await shoot(page, o, `03-sr-measurement-${i + 1}.png`);
    result.screenshots.push(screenshot);
    result.measurementViews.push({ screenshot, view: await viewState(page) });
  }
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
    summary.studyBrowser = squash(await page.locator('[data-cy="studyBrowser-panel"]').innerText().catch(() => ''));
    summary.viewportText = squash(await page.locator('[data-cy="viewport-grid"]').innerText().catch(() => ''));
    summary.screenshots = [await shoot(page, o, '01-viewer.png')];
    summary.view = await viewState(page);

    let loadsOk = true;
    if (o.seg !== undefined) {
      summary.seg = await loadDisplaySet(page, o, 'SEG', o.seg, '02-seg.png');
      loadsOk = loadsOk && summary.seg.loaded === true;
      if (summary.seg.loaded) await visitSegments(page, o, summary.seg);
      summary.screenshots.push(...(summary.seg.screenshots ?? []));
    }
    if (o.sr !== undefined) {
      summary.sr = await loadDisplaySet(page, o, 'SR', o.sr, '03-sr.png');
      loadsOk = loadsOk && summary.sr.loaded === true;
      if (summary.sr.loaded) await visitMeasurements(page, o, summary.sr);
      summary.screenshots.push(...(summary.sr.screenshots ?? []));
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
