// The Inference page's drawing canvas: a white round pen on black, and an Undo button.
//
// When the pen lifts, the canvas sends its picture at once (a PNG of exactly its size, as
// a data URL) as the component's "drawing" state, and the page answers. Nothing else is
// sent: no strokes, no timers. The strokes are kept here only to undo the last one.
// The drawing survives new data (a new pen width): it is kept on the component's element.

export default function ({ parentElement, data, setStateValue }) {
  const canvas = parentElement.querySelector("canvas");
  const undo = parentElement.querySelector("button");
  const ctx = canvas.getContext("2d");
  const pen = (parentElement.__pen ??= { strokes: [], current: null });
  pen.width = data.width;
  if (canvas.width !== data.size[0] || canvas.height !== data.size[1]) {
    canvas.width = data.size[0];          // resizing a canvas clears it: only the first time
    canvas.height = data.size[1];
  }

  // Point i of a stroke: its first, a dot; each next, a round-capped segment from the one
  // before. Drawing and redrawing after an undo go point by point alike, pixel for pixel.
  const paint = (stroke, i) => {
    const [x, y] = stroke.points[i];
    ctx.strokeStyle = ctx.fillStyle = "#ffffff";
    ctx.lineWidth = stroke.width;
    ctx.lineCap = "round";
    ctx.beginPath();
    if (i === 0) {
      ctx.arc(x, y, stroke.width / 2, 0, 2 * Math.PI);
      ctx.fill();
      return;
    }
    ctx.moveTo(...stroke.points[i - 1]);
    ctx.lineTo(x, y);
    ctx.stroke();
  };
  const redraw = () => {
    ctx.fillStyle = "#000000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    for (const stroke of pen.strokes) stroke.points.forEach((_, i) => paint(stroke, i));
    undo.disabled = pen.strokes.length === 0;
  };
  const send = () => setStateValue("drawing", pen.strokes.length
    ? { data: canvas.toDataURL("image/png") } : null);
  const at = (e) => [e.offsetX, e.offsetY];

  const down = (e) => {
    canvas.setPointerCapture(e.pointerId);
    pen.current = { width: pen.width, points: [at(e)] };
    paint(pen.current, 0);
  };
  const move = (e) => {
    if (!pen.current) return;
    pen.current.points.push(at(e));
    paint(pen.current, pen.current.points.length - 1);
  };
  const up = () => {
    if (!pen.current) return;
    pen.strokes.push(pen.current);
    pen.current = null;
    undo.disabled = false;
    send();
  };
  const back = () => {
    pen.strokes.pop();
    redraw();
    send();
  };

  redraw();
  canvas.addEventListener("pointerdown", down);
  canvas.addEventListener("pointermove", move);
  canvas.addEventListener("pointerup", up);
  canvas.addEventListener("pointercancel", up);
  undo.addEventListener("click", back);
  return () => {                          // new data, or the canvas leaves the page
    canvas.removeEventListener("pointerdown", down);
    canvas.removeEventListener("pointermove", move);
    canvas.removeEventListener("pointerup", up);
    canvas.removeEventListener("pointercancel", up);
    undo.removeEventListener("click", back);
  };
}
