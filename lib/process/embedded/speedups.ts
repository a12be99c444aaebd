// Faster equivalents of smqp's and bpmn-elements' hottest parts, installed once when the embedded engine loads.
//
// A start → service task → end instance sent ~1,750 smqp messages and the profile was theirs: `Math.random()` ids
// (one per message, queue, consumer and execution), two copies of each message, a delivery queue and its consumer
// between every publish and its routing, queue events published to nobody, a delivery queue built for every exchange.
// The replacements keep every observable behaviour (test/lib/process/speedups.spec.ts compares whole runs): ids stay
// unique (a per-process random prefix and a counter, so ids saved by an earlier process never collide with new ones),
// messages carry the same fields and properties, publishes are routed in the same order. They are installed only for
// the versions they were written against; any other version runs as published (and slower), which
// `speedupsInstalled()` reports; SSF_ENGINE_SPEEDUPS=off leaves them out.
import crypto from "node:crypto";
import path from "node:path";

interface SmqpShared {
  generateId(): string;
  getRoutingKeyPattern(pattern: string): { test(routingKey: string): boolean };
}

interface SmqpMessageModule {
  Message: MessageConstructor;
}

type MessageConstructor = (new (fields: Record<string, unknown>, content: unknown, properties: Record<string, unknown> | undefined, onConsumed: unknown) => object) & {
  prototype: object;
  length: number;
};

interface SmqpQueueModule {
  Queue: { prototype: QueueLike };
}

interface QueueLike {
  options: { messageTtl?: number };
  messages: object[];
  emit(event: string, content: unknown): void;
  evictFirst(message: object): boolean | undefined;
  queueMessage(fields: Record<string, unknown> | undefined, content: unknown, properties?: Record<string, unknown>): number | undefined;
  _getCapacity(): number;
  _consumeNext(): number | undefined;
  _onMessageConsumed: unknown;
}

interface SmqpExchangeModule {
  EventExchange: (name?: string) => ExchangeLike;
  Exchange: (name: string, type?: string, options?: Record<string, unknown>) => ExchangeLike;
}

interface BindingLike {
  testPattern(routingKey: string): boolean;
  queue: { queueMessage(fields: Record<string, unknown>, content: unknown, properties?: Record<string, unknown>): unknown };
}

interface ExchangeLike {
  name: string;
  type: string;
  publish(routingKey: string, content: unknown, properties?: Record<string, unknown>): unknown;
  _emitReturn(routingKey: string, content: unknown, properties?: Record<string, unknown>): unknown;
}

interface ElementsShared {
  brokerSafeId(id: string): string;
  getUniqueId(prefix: string): string;
}

const SMQP_VERSIONS = /^11\.0\./;
const BPMN_ELEMENTS_VERSIONS = /^17\./;

let installed: boolean | null = null;

// smqp's own symbol keys, read and written by the replacements as smqp's methods do.
const kName = Symbol.for("name");
const kType = Symbol.for("type");
const kStopped = Symbol.for("stopped");
const kBindings = Symbol.for("bindings");
const kDeliveryQueue = Symbol.for("deliveryQueue");
const kAvailableCount = Symbol.for("availableCount");
const kPending = Symbol.for("pending");
const kOnConsumed = Symbol.for("onConsumed");

/** On an exchange made here: false until its delivery queue is first needed (see installLazyDeliveryQueues). */
const kDeliveryCreated = Symbol("deliveryQueueCreated");

/** Exchanges smqp built itself always have one; those made here once something asked for it. */
function deliveryQueueMade(exchange: Record<symbol, unknown>): boolean {
  return exchange[kDeliveryCreated] !== false;
}

function packageDir(name: string): string {
  // The packages' "exports" hide their dist files from require; their main entry sits in the same folder.
  return path.dirname(require.resolve(name));
}

function versionOf(name: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(path.join(packageDir(name), "..", "package.json")) as { version: string }).version;
}

/** Installs the replacements once; true when they are in place. */
export function installSpeedups(): boolean {
  if (installed !== null) return installed;
  installed = false;
  if (process.env.SSF_ENGINE_SPEEDUPS === "off") return false;
  if (!SMQP_VERSIONS.test(versionOf("smqp")) || !BPMN_ELEMENTS_VERSIONS.test(versionOf("bpmn-elements"))) return false;
  /* eslint-disable @typescript-eslint/no-require-imports */
  const smqpDir = packageDir("smqp");
  const shared = require(path.join(smqpDir, "shared.js")) as SmqpShared;
  const messageModule = require(path.join(smqpDir, "Message.js")) as SmqpMessageModule;
  const queueModule = require(path.join(smqpDir, "Queue.js")) as SmqpQueueModule;
  const elementsShared = require(path.join(packageDir("bpmn-elements"), "shared.js")) as ElementsShared;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const Original = messageModule.Message;
  if (typeof shared.generateId !== "function" || typeof elementsShared.getUniqueId !== "function" || Original.length !== 4) return false;

  const prefix = crypto.randomBytes(3).toString("hex");
  let counter = 0;
  const nextId = (): string => prefix + (counter++).toString(36);
  shared.generateId = nextId;
  // Every binding compiles its pattern (a RegExp for wildcards); the compiled patterns hold no state, so one per text.
  // Patterns naming one execution (they hold an id made here) never come back and are not kept.
  const compilePattern = shared.getRoutingKeyPattern;
  const compiledPatterns = new Map<string, { test(routingKey: string): boolean }>();
  shared.getRoutingKeyPattern = (pattern: string) => {
    let compiled = compiledPatterns.get(pattern);
    if (!compiled) {
      compiled = compilePattern(pattern);
      if (compiledPatterns.size < 2_000 && !pattern.includes(prefix)) compiledPatterns.set(pattern, compiled);
    }
    return compiled;
  };
  elementsShared.getUniqueId = (idPrefix: string) => `${elementsShared.brokerSafeId(idPrefix)}_${nextId()}`;

  // Same fields (without consumerTag) and properties (messageId, timestamp and ttl filled in) as smqp's Message.
  function Message(this: Record<symbol | string, unknown>, fields: Record<string, unknown>, content: unknown, properties: Record<string, unknown> | undefined, onConsumed: unknown) {
    this[kOnConsumed] = [null, onConsumed];
    this[kPending] = false;
    const messageProperties: Record<string, unknown> = { ...properties };
    if (!messageProperties.messageId) messageProperties.messageId = `smq.mid-${nextId()}`;
    const timestamp = (messageProperties.timestamp as number) || (messageProperties.timestamp = Date.now());
    if (messageProperties.expiration) messageProperties.ttl = timestamp + parseInt(String(messageProperties.expiration), 10);
    // A consumer tag belongs to the message it was consumed as: left out, keeping the order of the other fields.
    let messageFields: Record<string, unknown>;
    if (fields.consumerTag === undefined) {
      // consumerTag is set when the message is consumed; a slot for it now spares every fields object a shape change
      // then (it stays last, where smqp's late assignment puts it, and undefined is not written to a saved state).
      messageFields = { ...fields, consumerTag: undefined };
    } else {
      messageFields = {};
      for (const key in fields) if (key !== "consumerTag") messageFields[key] = fields[key];
      messageFields.consumerTag = undefined;
    }
    this.fields = messageFields;
    this.content = content;
    this.properties = messageProperties;
  }
  Message.prototype = Original.prototype;
  messageModule.Message = Message as unknown as MessageConstructor;

  // smqp's queueMessage copies the properties only for Message to copy them again.
  const queuePrototype = queueModule.Queue.prototype as QueueLike & Record<symbol, unknown>;
  queuePrototype.queueMessage = function queueMessage(this: QueueLike & Record<symbol, unknown>, fields, content, properties) {
    if (fields && typeof fields !== "object") throw new TypeError("fields must be an object");
    if (properties && typeof properties !== "object") throw new TypeError("properties must be an object");
    if (this[kStopped]) return undefined;
    const messageTtl = this.options.messageTtl;
    const messageProperties = messageTtl && !(properties && "expiration" in properties) ? { ...properties, expiration: messageTtl } : properties;
    const message = new messageModule.Message(fields ?? {}, content, messageProperties, this._onMessageConsumed);
    const capacity = this._getCapacity();
    this.messages.push(message);
    (this[kAvailableCount] as number)++;
    let discarded: boolean | undefined;
    switch (capacity) {
      case 0:
        discarded = this.evictFirst(message);
        break;
      case 1:
        this.emit("saturated", this);
        break;
    }
    return discarded ? 0 : this._consumeNext();
  };
  const exchangeModule = require(path.join(smqpDir, "Exchange.js")) as SmqpExchangeModule; // eslint-disable-line @typescript-eslint/no-require-imports
  installExchangeDelivery(exchangeModule);
  installLazyDeliveryQueues(exchangeModule, queueModule, nextId);
  installQuietQueueEvents(queuePrototype);
  installed = true;
  return true;
}

/**
 * A queue tells its event exchange each time it runs empty, frees a slot or fills up ("depleted", "ready",
 * "saturated"): a third of all messages. Only the broker's own "#" listener hears them there, and it ignores these
 * three, so they are published only when some other binding would receive them. (A consumer's internal queue reports
 * to its consumer, not to an exchange, and is left alone.)
 */
function installQuietQueueEvents(queuePrototype: QueueLike): void {
  const quiet = new Set(["depleted", "ready", "saturated"]);
  const smqpEmit = queuePrototype.emit;
  queuePrototype.emit = function emit(this: QueueLike & { events?: Record<symbol, unknown> }, eventName: string, content: unknown) {
    const bindings = this.events?.[kBindings] as Array<BindingLike & { pattern: string }> | undefined;
    if (bindings && quiet.has(eventName) && bindings.every((binding) => binding.pattern === "#" || !binding.testPattern(`queue.${eventName}`))) return;
    smqpEmit.call(this, eventName, content);
  };
}

/**
 * smqp routes every publish through a delivery queue and its consumer (two more messages per publish) only to keep
 * publishes made while one is being routed behind it. Routing directly, with those nested publishes held in a plain
 * array until the one before them is routed, keeps that order. A delivery queue that holds messages (recovered from
 * a saved state) is left to smqp.
 */
function installExchangeDelivery(exchangeModule: SmqpExchangeModule): void {
  const kHeld = Symbol("heldPublishes");
  const kRouting = Symbol("routing");
  type Exchange = ExchangeLike & Record<symbol, unknown>;
  const prototype = Object.getPrototypeOf(exchangeModule.EventExchange("speedups-probe")) as Exchange;
  const smqpPublish = prototype.publish;

  const route = (exchange: Exchange, routingKey: string, content: unknown, properties: Record<string, unknown> | undefined): void => {
    const bindings = exchange[kBindings] as BindingLike[];
    if (exchange.type === "topic") {
      let delivered = 0;
      for (const binding of bindings.slice()) {
        if (!binding.testPattern(routingKey)) continue;
        binding.queue.queueMessage({ routingKey, exchange: exchange.name }, content, properties);
        delivered += 1;
      }
      if (!delivered) exchange._emitReturn(routingKey, content, properties);
      return;
    }
    const target = bindings.find((binding) => binding.testPattern(routingKey));
    if (!target) {
      exchange._emitReturn(routingKey, content, properties);
      return;
    }
    if (bindings.length > 1) {
      bindings.splice(bindings.indexOf(target), 1);
      bindings.push(target);
    }
    target.queue.queueMessage({ routingKey, exchange: exchange.name }, content, properties);
  };

  prototype.publish = function publish(this: Exchange, routingKey: string, content: unknown, properties?: Record<string, unknown>) {
    if (this[kStopped]) return undefined;
    if (!(this[kBindings] as unknown[]).length) return this._emitReturn(routingKey, content, properties);
    if (deliveryQueueMade(this) && (this[kDeliveryQueue] as { messageCount: number }).messageCount) return smqpPublish.call(this, routingKey, content, properties);
    const held = (this[kHeld] as unknown[] | undefined) ?? (this[kHeld] = []);
    held.push(routingKey, content, properties);
    if (this[kRouting]) return 0;
    this[kRouting] = true;
    try {
      while (held.length) {
        const heldKey = held.shift() as string;
        const heldContent = held.shift();
        route(this, heldKey, heldContent, held.shift() as Record<string, unknown> | undefined);
      }
    } finally {
      this[kRouting] = false;
    }
    return 1;
  };
}

/** Whether the replacements are in place (false for smqp or bpmn-elements versions they were not written for). */
export function speedupsInstalled(): boolean {
  return installed === true;
}

interface DeliveryQueue {
  messageCount: number;
  consumerCount: number;
  consume(onMessage: unknown, options: Record<string, unknown>): unknown;
  cancel(consumerTag: string): void;
  close(): void;
  recover(state: unknown): void;
  getState(): unknown;
}

/**
 * Every smqp exchange — and every queue's and exchange's event exchange — builds a delivery queue with an exclusive
 * consumer (three objects and their options) at birth, about half of a waiting engine's objects. With publishes
 * routed directly (installExchangeDelivery) it is needed only to hold messages recovered from a saved state, so it is
 * made when first asked for. Exchanges are built as smqp builds them otherwise; the exchange methods that read the
 * delivery queue only to find it empty (state, undelivered count, close, recover) skip an unmade one.
 */
function installLazyDeliveryQueues(exchangeModule: SmqpExchangeModule, queueModule: SmqpQueueModule, nextId: () => string): void {
  type Exchange = ExchangeLike & Record<symbol, unknown> & { options: Record<string, unknown>; events: unknown };
  const prototype = Object.getPrototypeOf(exchangeModule.EventExchange("speedups-probe")) as Exchange & {
    getState(): unknown;
    close(): void;
    recover(state: unknown, getQueue: unknown): unknown;
    _onTopicMessage: unknown;
    _onDirectMessage: unknown;
  };
  const Queue = queueModule.Queue as unknown as new (name: string, options: Record<string, unknown>) => DeliveryQueue;
  const smqpGetState = prototype.getState;
  const smqpClose = prototype.close;
  const smqpRecover = prototype.recover;
  // smqp's own accessors cannot be redefined: exchanges made here inherit from a prototype of their own.
  const lazyPrototype = Object.create(prototype) as typeof prototype;

  function makeExchange(name: string, type: string, options: Record<string, unknown> | undefined, eventExchange: unknown): Exchange {
    const exchange = Object.create(lazyPrototype) as Exchange;
    exchange[kName] = name;
    exchange[kType] = type;
    exchange[kBindings] = [];
    exchange[kStopped] = false;
    exchange.options = { durable: true, autoDelete: true, ...options };
    exchange.events = eventExchange;
    exchange[kDeliveryCreated] = false;
    return exchange;
  }

  // Made on first read, by smqp's own methods through the prototype; kept on the exchange from then on. (An accessor
  // on each exchange would turn every exchange into a slow dictionary object.)
  Object.defineProperty(lazyPrototype, kDeliveryQueue, {
    get(this: Exchange) {
      const type = this[kType];
      const deliveryQueue = new Queue("delivery-q", { autoDelete: false });
      const onMessage = (type === "topic" ? (prototype._onTopicMessage as (...args: unknown[]) => unknown) : (prototype._onDirectMessage as (...args: unknown[]) => unknown)).bind(this);
      deliveryQueue.consume(onMessage, { exclusive: true, consumerTag: "_exchange-tag" });
      Object.defineProperty(this, kDeliveryQueue, { configurable: true, writable: true, value: deliveryQueue });
      this[kDeliveryCreated] = true;
      return deliveryQueue;
    },
  });

  function EventExchange(name?: string): Exchange {
    return makeExchange(name || `smq.ename-${nextId()}`, "topic", { durable: false, autoDelete: true }, undefined);
  }
  function Exchange(name: string, type = "topic", options?: Record<string, unknown>): Exchange {
    if (!name || typeof name !== "string") throw new TypeError("Exchange name is required and must be a string");
    if (type !== "topic" && type !== "direct") throw new TypeError("Exchange type must be one of topic or direct");
    return makeExchange(name, type, options, EventExchange(`${name}__events`));
  }
  exchangeModule.EventExchange = EventExchange;
  exchangeModule.Exchange = Exchange;

  Object.defineProperty(lazyPrototype, "undeliveredCount", {
    configurable: true,
    get(this: Exchange) {
      return deliveryQueueMade(this) ? (this[kDeliveryQueue] as DeliveryQueue).messageCount : 0;
    },
  });
  lazyPrototype.getState = function getState(this: Exchange) {
    if (deliveryQueueMade(this)) return smqpGetState.call(this);
    const bindings = (this[kBindings] as Array<{ queue: { options: { durable?: boolean } }; getState(): unknown }>)
      .filter((binding) => binding.queue.options.durable)
      .map((binding) => binding.getState());
    return { name: this.name, type: this.type, options: { ...this.options }, ...(bindings.length && { bindings }) };
  };
  lazyPrototype.close = function close(this: Exchange) {
    if (deliveryQueueMade(this)) return smqpClose.call(this);
    for (const binding of this[kBindings] as Array<{ close(): void }>) binding.close();
  };
  lazyPrototype.recover = function recover(this: Exchange, state: { deliveryQueue?: unknown } | undefined, getQueue: unknown) {
    if (deliveryQueueMade(this) || state?.deliveryQueue) return smqpRecover.call(this, state, getQueue);
    // What smqp's recover does, less reviving a delivery queue that was never made (it would find nothing).
    this[kStopped] = false;
    if (!state) return this;
    for (const binding of (state as { bindings?: Array<{ queueName: string; pattern: string; options: unknown }> }).bindings ?? []) {
      const queue = (getQueue as (name: string) => unknown)(binding.queueName);
      if (!queue) return undefined;
      (this as unknown as { bindQueue(queue: unknown, pattern: string, options: unknown): unknown }).bindQueue(queue, binding.pattern, binding.options);
    }
    return this;
  };
}
