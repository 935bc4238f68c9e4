// The page at `/`: choose a pipeline, drop or pick a file, see the image or the waveform, the ranked
// labels as bars and the time taken; for a pipeline that draws samples, a grid with a seed box and a class
// picker. HTML, CSS and JavaScript in one string, no external assets.

enum ServicePage {
    static let html = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>dlpipe serve</title>
        <style>
        body{font-family:system-ui,sans-serif;margin:2em auto;max-width:46em;color:#222;padding:0 1em}
        h1{font-size:1.4em} select,button{font-size:1em;padding:.3em .6em}
        #drop{border:2px dashed #999;border-radius:8px;padding:2em;text-align:center;margin:1em 0;cursor:pointer}
        #drop.over{background:#eef6ff;border-color:#37c}
        #preview img{image-rendering:pixelated;width:140px;border:1px solid #ccc}
        #wave{width:100%;height:90px;border:1px solid #ccc;display:none}
        .bar{display:flex;align-items:center;gap:.6em;margin:.25em 0}
        .bar span.l{width:7em;text-align:right;font-weight:600}
        .bar div.b{background:#37c;height:1.1em;border-radius:3px}
        #label{font-size:2em;font-weight:700} #err{color:#b00;white-space:pre-wrap} #time{color:#666}
        </style></head><body>
        <h1>dlpipe serve</h1>
        <p><label>Pipeline <select id="pipeline"></select></label> <span id="info"></span></p>
        <div id="sampler" style="display:none"><label>Seed <input id="seed" type="number" value="1" min="0" style="width:7em"></label>
        <label>Class <select id="cls"></select></label> <button id="draw">Draw</button>
        <div><img id="grid" style="image-rendering:pixelated;width:560px;margin-top:1em;border:1px solid #ccc" alt=""></div></div>
        <div id="drop">Drop a PNG or an audio file here, or click to choose one
        <input type="file" id="file" style="display:none"></div>
        <div id="preview"></div><canvas id="wave" width="900" height="90"></canvas>
        <p>Label: <span id="label">–</span> <span id="time"></span></p>
        <div id="bars"></div><p id="err"></p>
        <script>
        const $ = id => document.getElementById(id);
        let pipelines = [];
        async function loadPipelines() {
          const r = await fetch('/v1/pipelines'); const j = await r.json(); pipelines = j.pipelines;
          $('pipeline').innerHTML = pipelines.map(p => `<option value="${p.name}">${p.name}</option>`).join('');
          showInfo();
        }
        function showInfo() {
          const p = pipelines.find(p => p.name === $('pipeline').value); if (!p) return;
          $('info').textContent = `reads ${p.reads}` + (p.classes.length ? `, ${p.classes.length} classes` : '');
          const drawing = p.reads.startsWith('nothing');
          $('sampler').style.display = drawing ? 'block' : 'none';
          for (const id of ['drop', 'preview', 'bars']) $(id).style.display = drawing ? 'none' : 'block';
          $('cls').innerHTML = '<option value="">every class</option>' + p.classes.map(c => `<option>${c}</option>`).join('');
          $('cls').disabled = !p.classes.length;
          if (drawing) draw();
        }
        function draw() {
          const name = encodeURIComponent($('pipeline').value), t0 = performance.now();
          $('grid').onload = () => { $('time').textContent = `(${(performance.now() - t0).toFixed(1)} ms)`; $('err').textContent = ''; };
          $('grid').onerror = async () => { const r = await fetch($('grid').src); $('err').textContent = (await r.json()).error; };
          $('grid').src = `/v1/pipelines/${name}/sample?seed=${encodeURIComponent($('seed').value)}&class=${encodeURIComponent($('cls').value)}`;
        }
        $('draw').onclick = draw;
        $('pipeline').onchange = showInfo;
        $('drop').onclick = () => $('file').click();
        $('drop').ondragover = e => { e.preventDefault(); $('drop').classList.add('over'); };
        $('drop').ondragleave = () => $('drop').classList.remove('over');
        $('drop').ondrop = e => { e.preventDefault(); $('drop').classList.remove('over'); if (e.dataTransfer.files[0]) send(e.dataTransfer.files[0]); };
        $('file').onchange = () => { if ($('file').files[0]) send($('file').files[0]); };
        async function preview(file) {
          $('preview').innerHTML = ''; $('wave').style.display = 'none';
          if (file.type === 'image/png' || file.name.toLowerCase().endsWith('.png')) {
            const img = document.createElement('img'); img.src = URL.createObjectURL(file); $('preview').appendChild(img); return;
          }
          try {
            const ctx = new (window.AudioContext || window.webkitAudioContext)();
            const audio = await ctx.decodeAudioData(await file.arrayBuffer());
            const data = audio.getChannelData(0), c = $('wave'), g = c.getContext('2d');
            c.style.display = 'block'; g.clearRect(0, 0, c.width, c.height); g.strokeStyle = '#37c'; g.beginPath();
            const step = Math.max(1, Math.floor(data.length / c.width));
            for (let x = 0; x < c.width; x++) {
              let lo = 1, hi = -1;
              for (let i = x * step; i < Math.min(data.length, (x + 1) * step); i++) { lo = Math.min(lo, data[i]); hi = Math.max(hi, data[i]); }
              g.moveTo(x, (1 - hi) * c.height / 2); g.lineTo(x, (1 - lo) * c.height / 2);
            }
            g.stroke();
          } catch (e) { /* the server says what is wrong with the file */ }
        }
        async function send(file) {
          $('err').textContent = ''; $('label').textContent = '…'; $('bars').innerHTML = ''; $('time').textContent = '';
          preview(file);
          const t0 = performance.now();
          const r = await fetch('/v1/pipelines/' + encodeURIComponent($('pipeline').value) + '?top_k=5', {
            method: 'POST', body: file,
            headers: {'Content-Type': file.type || 'application/octet-stream', 'X-Filename': file.name}});
          const j = await r.json(), ms = performance.now() - t0;
          if (!r.ok) { $('label').textContent = '–'; $('err').textContent = j.error; return; }
          $('label').textContent = j.label;
          $('time').textContent = `(${ms.toFixed(1)} ms in the browser, ${j.ms} ms in dlpipe)`;
          $('bars').innerHTML = j.top.map(t => `<div class="bar"><span class="l">${t.label}</span>` +
            `<div class="b" style="width:${Math.max(2, 300 * t.p)}px"></div><span>${(100 * t.p).toFixed(1)} %</span></div>`).join('');
        }
        loadPipelines();
        </script></body></html>
        """
}
