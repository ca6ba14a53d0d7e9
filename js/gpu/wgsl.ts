// gpu/wgsl.ts — a GPU kernel's whole WGSL: the user's `fn handle`, framed by shaders/
// (handler.wgsl, ingress.wgsl, egress.wgsl) and the structs of its message classes, whose
// fields become 4-byte words moved in and out of records.
import type { KernelDefinition } from '../kernel/kernel.js';
import type { MessageClass } from '../message/message.js';
import type { FieldType } from '../message/schema.js';
import { packageFile, readText } from '../platform.js';

export interface GpuState {
  /** Element type of the state array (WGSL `array<type, words>`, named `state`). */
  type: 'f32' | 'u32' | 'i32';
  words: number;
  /** Initial contents (default zeros). */
  init?: ArrayLike<number>;
}

export interface Slot { name: string; kind: 'f32' | 'i32' | 'u32'; count: number; fixedArray: boolean }

/** The message's fields as 4-byte words, or why it cannot live on the GPU. */
export function slotsOf(cls: MessageClass<any>, kernelId: string, role: string): Slot[] {
  const slots: Slot[] = [];
  for (const [name, type] of Object.entries(cls.schema as Record<string, FieldType>)) {
    const scalar = (k: string) => k === 'f32' || k === 'i32' || k === 'u32';
    if (scalar(type.kind)) slots.push({ name, kind: type.kind as Slot['kind'], count: 1, fixedArray: false });
    else if (type.kind === 'array' && type.length !== undefined && type.element && scalar(type.element.kind))
      slots.push({ name, kind: type.element.kind as Slot['kind'], count: type.length, fixedArray: true });
    else {
      throw new TypeError(`ringKernel '${kernelId}': ${role} ${cls.typeName}.${name} is ${type.kind === 'array' ? 'an array without a fixed length' : `a ${type.kind}`}; ` +
        'a GPU kernel takes only t.f32, t.i32, t.u32 and fixed arrays of them (t.array(t.f32, n))');
    }
  }
  return slots;
}

function structWgsl(name: string, slots: Slot[]): string {
  const fields = slots.map((s) => `  ${s.name}: ${s.fixedArray ? `array<${s.kind}, ${s.count}>` : s.kind},`).join('\n');
  return `struct ${name} {\n${fields}\n}`;
}

export const words = (slots: Slot[]) => slots.reduce((n, s) => n + s.count, 0);

const shaderFiles = new Map<string, Promise<string>>();
function loadShader(file: string): Promise<string> {
  let text = shaderFiles.get(file);
  if (!text) {
    text = readText(packageFile(`../shaders/${file}`));
    text.catch(() => shaderFiles.delete(file));
    shaderFiles.set(file, text);
  }
  return text;
}

/** A kernel's whole WGSL, and the line of it where the user's code starts. */
export async function kernelWgsl(def: KernelDefinition, inSlots: Slot[], outSlots: Slot[]): Promise<{ code: string; userLine: number }> {
  const [frame, ingress, egress] = await Promise.all([loadShader('handler.wgsl'), loadShader('ingress.wgsl'), loadShader('egress.wgsl')]);
  const inCls = def.input!, outCls = def.output!, state = def.gpuState;
  const values: Record<string, string> = {
    IN: inCls.typeName, OUT: outCls.typeName,
  };
  const fill = (text: string) => text.replace(/\$([A-Z_]+)/g, (all, name: string) => values[name] ?? all);
  const structs = inCls === outCls ? structWgsl(inCls.typeName, inSlots) : `${structWgsl(inCls.typeName, inSlots)}\n\n${structWgsl(outCls.typeName, outSlots)}`;
  const head = frame
    .replace('//#STRUCTS', structs)
    .replace('//#INGRESS', fill(ingress))
    .replace('//#EGRESS', fill(egress))
    .replace('//#STATE', state ? `@group(0) @binding(3) var<storage, read_write> state: array<${state.type}, ${state.words}>;` : '');
  return { code: head.replace('//#USER', def.wgsl!), userLine: head.slice(0, head.indexOf('//#USER')).split('\n').length };
}
