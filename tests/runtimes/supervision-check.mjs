// Supervision in whatever runtime runs this (Node, Deno, Bun, a browser page, workerd): a
// kernel with a restart policy meets poison messages among good ones. It imports nothing, so
// each runtime passes its own build's runtime and message class (workerd has its own entry).
// The kernel `id` answers n * 10 as Num({ n }) and throws on a negative n.

/** `Num`: a message class with one number field `n`. */
export async function supervisionChecks(check, rt, id, Num) {
  const events = [];
  for (const type of ['restarted', 'deadletter', 'failed']) rt.events.addEventListener(type, (e) => events.push(`${type}:${e.detail.kernelId}`));
  check(`${id}: runtime.events is an EventTarget`, rt.events instanceof EventTarget);
  await rt.launch(id);
  await rt.activate(id);
  for (const n of [1, -1, 2, -2, 3]) await rt.send(id, new Num({ n }));
  const answers = [];
  for (let i = 0; i < 3; i++) answers.push((await rt.receive(id, { timeout: 5000 })).n);
  check(`${id}: the good messages answered once each, in order`, answers.join() === '10,20,30', answers.join());
  const letters = rt.deadLetters(id).map((d) => d.message.n);
  check(`${id}: the poison ones in its dead letters`, letters.join() === '-1,-2', letters.join());
  const tel = rt.getTelemetry(id);
  check(`${id}: telemetry counts 2 restarts and 2 dead letters`, tel.restarts === 2 && tel.deadLetters === 2, `${tel.restarts}, ${tel.deadLetters}`);
  await new Promise((r) => setTimeout(r, 0));
  const want = [`deadletter:${id}`, `restarted:${id}`, `deadletter:${id}`, `restarted:${id}`].join();
  check(`${id}: 'deadletter' and 'restarted' events name it`, events.join() === want, events.join());
  await rt.terminate(id);
}
