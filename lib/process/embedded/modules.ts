// The ES-module and untyped packages the embedded engine uses, loaded with require (Node ≥ 20.19) and typed as used here.
import type { EventEmitter } from "node:events";
import { installSpeedups } from "./speedups";

installSpeedups();

export interface FeelTree {
  iterate(visitor: { enter(node: { type: { isError: boolean }; from: number }): void }): void;
}

export interface FeelModule {
  evaluate(expression: string, context?: Record<string, unknown>): { value: unknown; warnings: Array<{ message: string }> };
  parseExpression(expression: string, context?: Record<string, unknown>, dialect?: string): FeelTree;
}

export interface ModdleElement {
  $type: string;
  id?: string;
  name?: string;
  [key: string]: unknown;
}

export interface BpmnModdleInstance {
  fromXML(xml: string): Promise<{ rootElement: ModdleElement; warnings: Array<{ message: string; element?: ModdleElement }> }>;
  toXML(element: ModdleElement): Promise<{ xml: string }>;
  create(type: string, properties?: Record<string, unknown>): ModdleElement;
}

/** moddle-context-serializer's context: opaque to us apart from the parts prepareContext adjusts. */
export interface SourceContext {
  id: string;
  serialize(): string | undefined;
  elements: {
    processes: Array<{ id: string; behaviour: { isExecutable?: boolean } }>;
    activities: Array<{ id: string; behaviour: { loopCharacteristics?: { behaviour: Record<string, unknown> } } }>;
  };
}

export interface SerializerModule {
  default(moddleContext: unknown, typeResolver: unknown): SourceContext;
  TypeResolver(types: Record<string, unknown>): unknown;
}

export interface ElementApi {
  id: string;
  type: string;
  executionId: string;
  name?: string;
  content: Record<string, unknown> & {
    executionId: string;
    parent?: { id?: string; executionId?: string; path?: Array<{ id?: string; executionId?: string }> };
    isMultiInstance?: boolean;
    index?: number;
    expireAt?: string | Date;
  };
}

export interface ActivityHandle {
  id: string;
  broker: { publish(exchange: string, routingKey: string, content: unknown, options?: Record<string, unknown>): void };
}

export interface EngineExecution {
  signal(payload: Record<string, unknown>): void;
  getActivityById(id: string): ActivityHandle | undefined;
  getPostponed(): ElementApi[];
  stop(): Promise<void> | void;
}

export interface BpmnEngine extends EventEmitter {
  execute(options?: Record<string, unknown>): Promise<EngineExecution>;
  resume(options?: Record<string, unknown>): Promise<EngineExecution>;
  recover(state: unknown): BpmnEngine;
  getState(): Promise<{ definitions: Array<Record<string, unknown>> } & Record<string, unknown>>;
  stop(): Promise<void> | void;
  readonly state: string;
  readonly execution: EngineExecution | null;
  /** bpmn-elements' timer registry, shared by everything the engine runs. */
  readonly environment: { timers: { readonly executing: unknown[]; clearTimeout(timer: unknown): void } };
}

export interface BpmnEngineModule {
  Engine: new (options: Record<string, unknown>) => BpmnEngine;
}

/* eslint-disable @typescript-eslint/no-require-imports */
export const feelin = require("feelin") as FeelModule;
const bpmnModdleModule = require("bpmn-moddle") as { default?: unknown };
export const BpmnModdle = (bpmnModdleModule.default ?? bpmnModdleModule) as new (packages: Record<string, unknown>) => BpmnModdleInstance;
export const bpmnElements = require("bpmn-elements") as Record<string, unknown> & { SignalTask: unknown };
export const serializer = require("moddle-context-serializer") as SerializerModule;
export const bpmnEngine = require("bpmn-engine") as BpmnEngineModule;
export const zeebeSchema = require("zeebe-bpmn-moddle/resources/zeebe.json") as Record<string, unknown>;
/* eslint-enable @typescript-eslint/no-require-imports */
