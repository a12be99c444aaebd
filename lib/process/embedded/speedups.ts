// Faster equivalents of smqp's and bpmn-elements' hottest parts, installed once when the embedded engine loads.
//
// A start → service task → end instance sent ~1,750 smqp messages and the profile was theirs: `Math.random()` ids
// (one per message, queue, consumer and execution), two copies of each message, a delivery queue and its consumer
// between every publish and its routing, a whole queue inside every consumer (one more message per delivery), queue
// events sent as messages through an event exchange per queue, a delivery queue built for every exchange. With these
// replacements it sends ~195. They keep every observable behaviour (test/lib/process/speedups.spec.ts compares whole
// process runs, and smqp's broker driven on its own, with and without them): ids stay
// unique (a per-process random prefix and a counter, so ids saved by an earlier process never collide with new ones),
// messages carry the same fields and properties, publishes are routed in the same order. They are installed only for
// the versions they were written against; any other version runs as published (and slower), which
// `speedupsInstalled()` reports; SSF_ENGINE_SPEEDUPS=off leaves them out.
import crypto from "node:crypto";
import path from "node:path";

interface SmqpShared {
  generateId(): string;
  sortByPriority(a: unknown, b: unknown): number;
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
  Consumer: { prototype: object };
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

interface SmqpBrokerModule {
  Broker: { prototype: object };
}

interface SmqpErrors {
  SmqpError: new (message: string, code: string) => Error;
  ERR_QUEUE_NAME_CONFLICT: string;
  ERR_EXCLUSIVE_CONFLICT: string;
  ERR_EXCLUSIVE_NOT_ALLOWED: string;
}

interface ElementsShared {
  brokerSafeId(id: string): string;
  getUniqueId(prefix: string): string;
}

const SMQP_VERSIONS = /^11\.0\./;
const BPMN_ELEMENTS_VERSIONS = /^17\./;

let installed: boolean | null = null;

/**
 * Fields of a message about to be made, made by the replacements (routing, events): Message takes them without a copy.
 * Copying a fields object and adding its consumer tag slot cost ~1 µs a message, a tenth of an instance's time; a
 * literal with the slot already in it (consumerTag is set when the message is consumed) costs nothing more.
 */
let freshFields: Record<string, unknown> | null = null;
function newMessageFields(routingKey: string, exchange: string): Record<string, unknown> {
  return (freshFields = { routingKey, exchange, consumerTag: undefined });
}

// smqp's own symbol keys, read and written by the replacements as smqp's methods do.
const kName = Symbol.for("name");
const kType = Symbol.for("type");
const kStopped = Symbol.for("stopped");
const kBindings = Symbol.for("bindings");
const kDeliveryQueue = Symbol.for("deliveryQueue");
const kAvailableCount = Symbol.for("availableCount");
const kPending = Symbol.for("pending");
const kOnConsumed = Symbol.for("onConsumed");
const kConsumers = Symbol.for("consumers");
const kExclusive = Symbol.for("exclusive");
const kInternalQueue = Symbol.for("internalQueue");
const kIsReady = Symbol.for("isReady");
const kConsuming = Symbol.for("consuming");
const kEntities = Symbol.for("entities");
const kEventHandler = Symbol.for("eventHandler");

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
    if (fields === freshFields) {
      // Made for this message alone (see newMessageFields): taken as they are.
      freshFields = null;
      messageFields = fields;
    } else if (fields.consumerTag === undefined) {
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
  const errors = require(path.join(smqpDir, "Errors.js")) as SmqpErrors; // eslint-disable-line @typescript-eslint/no-require-imports
  installConsumerBuffers(queueModule, shared, errors);
  const brokerModule = require(path.join(smqpDir, "Broker.js")) as SmqpBrokerModule; // eslint-disable-line @typescript-eslint/no-require-imports
  installEntityEvents(brokerModule, queueModule, messageModule, shared, errors);
  installed = true;
  return true;
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
        binding.queue.queueMessage(newMessageFields(routingKey, exchange.name), content, properties);
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
    target.queue.queueMessage(newMessageFields(routingKey, exchange.name), content, properties);
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

/** What the buffer reads of a message handed to the consumer. */
interface DeliveredMessage {
  fields: Record<string, unknown>;
  properties: Record<string, unknown>;
}

/**
 * One message handed to a consumer, as the consumer's internal queue holds it: pending from its delivery until the
 * message is acked or nacked (smqp's consumer acks its wrapper then, whatever the outcome).
 */
class BufferEntry {
  pending = false;
  readonly fields: Record<string, unknown>;
  constructor(
    readonly buffer: ConsumerBuffer,
    readonly content: DeliveredMessage,
  ) {
    // The consumer reads the routing key off its wrapper's fields: the message's own (same routing key).
    this.fields = content.fields;
  }
  _consume(): void {
    this.pending = true;
  }
  ack(): void {
    if (!this.pending) return;
    this.buffer.remove(this);
    this.pending = false;
  }
  nack(): void {
    this.ack();
  }
}

/**
 * What smqp's consumer keeps in its internal queue: the messages pushed to it and not yet acked, at most `prefetch`.
 * smqp builds a whole queue for this (one more Message per delivery: half of the messages an instance sent);
 * this is the part of it the consumer uses: push, take the next, count, and the consumer's readiness as the internal
 * queue's events set it (not ready when the push fills it, ready again when an ack frees a slot or empties it).
 */
class ConsumerBuffer {
  readonly messages: BufferEntry[] = [];
  readonly options: { autoDelete: false; maxLength: number };
  constructor(
    private readonly consumer: Record<symbol, unknown>,
    prefetch: number,
  ) {
    this.options = { autoDelete: false, maxLength: prefetch };
  }
  get messageCount(): number {
    return this.messages.length;
  }
  _getCapacity(): number {
    return this.options.maxLength - this.messages.length;
  }
  queueMessage(_fields: unknown, message: DeliveredMessage): number {
    const capacity = this._getCapacity();
    const entry = new BufferEntry(this, message);
    this.messages.push(entry);
    if (capacity === 0) {
      // A full queue drops its oldest undelivered message (smqp's evictFirst).
      const evicted = this.get();
      if (evicted) evicted.ack();
    } else if (capacity === 1) {
      this.consumer[kIsReady] = false;
    }
    return 0;
  }
  /** The next undelivered entry, now pending; expired ones are dropped on the way, as smqp's queue drops them. */
  get(): BufferEntry | false {
    let found: BufferEntry | false = false;
    let expired: BufferEntry[] | undefined;
    for (const entry of this.messages) {
      if (entry.pending) continue;
      const properties = entry.content.properties;
      if (properties.expiration && (properties.ttl as number) < Date.now()) {
        (expired ??= []).push(entry);
        continue;
      }
      entry.pending = true;
      found = entry;
      break;
    }
    if (expired) for (const entry of expired) this.remove(entry);
    return found;
  }
  /** An entry acked (or dropped): a freed slot makes the consumer ready again. */
  remove(entry: BufferEntry): void {
    const index = this.messages.indexOf(entry);
    if (index === -1) return;
    this.messages.splice(index, 1);
    if (!this.messages.length || this._getCapacity() === 1) this.consumer[kIsReady] = true;
  }
}

/**
 * smqp's Consumer, built with a ConsumerBuffer for its internal queue. Its methods are smqp's own (same prototype);
 * they use of the internal queue only what ConsumerBuffer has. Queue.consume is smqp's, calling this constructor.
 */
function installConsumerBuffers(queueModule: SmqpQueueModule, shared: SmqpShared, errors: SmqpErrors): void {
  type Queue = QueueLike & Record<symbol, unknown> & { name: string; on(...args: unknown[]): unknown; unbindConsumer(consumer: unknown): unknown; _consumeMessages(n: number, options: unknown): unknown[] };
  type Consumer = Record<symbol, unknown> & { options: Record<string, unknown>; capacity: number; _push(messages: unknown[]): void };
  const consumerPrototype = queueModule.Consumer.prototype;
  const queuePrototype = queueModule.Queue.prototype as unknown as Queue & { consume: unknown };

  function ConsumerEmitter(this: { queue: Queue }, queue: Queue) {
    this.queue = queue;
  }
  ConsumerEmitter.prototype.on = function on(this: { queue: Queue }, ...args: unknown[]) {
    return this.queue.on(...args);
  };
  ConsumerEmitter.prototype.emit = function emit(this: { queue: Queue }, eventName: string, content: unknown) {
    if (eventName === "consumer.cancel") return this.queue.unbindConsumer(content);
    this.queue.emit(eventName, content);
  };

  function Consumer(this: Consumer & { queue: Queue; onMessage: unknown; owner: unknown; events: unknown }, queue: Queue, onMessage: unknown, options: Record<string, unknown> | undefined, owner: unknown, eventEmitter: unknown) {
    if (typeof onMessage !== "function") throw new TypeError("message callback is required and must be a function");
    this.options = { prefetch: 1, priority: 0, noAck: false, ...options };
    const consumerTag = this.options.consumerTag;
    if (!consumerTag) this.options.consumerTag = `smq.ctag-${shared.generateId()}`;
    else if (typeof consumerTag !== "string") throw new TypeError("consumerTag must be a string");
    this.queue = queue;
    this.onMessage = onMessage;
    this.owner = owner;
    this.events = eventEmitter;
    this[kName] = this.options.consumerTag;
    this[kIsReady] = true;
    this[kStopped] = false;
    this[kConsuming] = false;
    this[kInternalQueue] = new ConsumerBuffer(this, this.options.prefetch as number);
  }
  Consumer.prototype = consumerPrototype;

  queuePrototype.consume = function consume(this: Queue, onMessage: unknown, consumeOptions: Record<string, unknown> | undefined, owner: unknown) {
    const consumers = this[kConsumers] as Consumer[];
    if (consumers.length) {
      if (this[kExclusive]) throw new errors.SmqpError(`Queue ${this.name} is exclusively consumed by ${String(consumers[0][kName])}`, errors.ERR_EXCLUSIVE_CONFLICT);
      if (consumeOptions?.exclusive) throw new errors.SmqpError(`Queue ${this.name} already has consumers and cannot be exclusively consumed`, errors.ERR_EXCLUSIVE_NOT_ALLOWED);
    }
    const consumer = new (Consumer as unknown as new (...args: unknown[]) => Consumer)(this, onMessage, consumeOptions, owner, new (ConsumerEmitter as unknown as new (queue: Queue) => unknown)(this));
    this.emit("consume", consumer);
    if (consumers.push(consumer) > 1 && consumer.options.priority) consumers.sort(shared.sortByPriority);
    if (consumer.options.exclusive) this[kExclusive] = true;
    const pendingMessages = this._consumeMessages(consumer.capacity, consumer.options);
    if (pendingMessages.length) consumer._push(pendingMessages);
    return consumer;
  };
}

type EventHandler = (routingKey: string, message: unknown, owner: unknown) => void;

interface EventListener {
  pattern: string;
  compiled: { test(routingKey: string): boolean };
  handler: EventHandler;
  consumerTag: string;
  /** The broker's own listener reads a message's content only. */
  broker: boolean;
  /** Delivering now: events it causes wait for it to return, in order (its consumer would be busy). */
  busy: boolean;
  waiting: Array<{ routingKey: string; content: unknown }> | null;
}

/** Events the broker's own listener ignores. */
const IGNORED_BY_BROKER = new Set(["queue.depleted", "queue.ready", "queue.saturated"]);
const MATCH_ALL = { test: () => true };

interface EntityEventsTools {
  compilePattern(pattern: string): { test(routingKey: string): boolean };
  makeMessage(routingKey: string, exchange: string, content: unknown, consumerTag: string): unknown;
  newConsumerTag(): string;
}

let entityEventsTools: EntityEventsTools | null = null;

/**
 * smqp gives every queue and every exchange a whole event exchange, with a queue, binding and consumer for each
 * listener on it: the broker's ("#"), and for a queue one more per binding of the queue (it closes the binding when
 * the queue is deleted). Every queue event ("consume", "consumer.cancel", "delete", …) was a message through them: half
 * of the messages an instance sent, and a third of a live engine's objects; nothing but smqp listens there. This
 * delivers the events to the same listeners in the same order without the messages: in the order they listened (the
 * broker first, as it listens when the queue or exchange is made); an event raised while a listener is running waits
 * for it to return, as its consumer would make it wait. Listeners other than the broker's get a message as smqp's
 * consumer would give them (fields, content, properties; already acknowledged).
 */
class EntityEvents {
  private listeners: EventListener[] | null = null;
  constructor(readonly name: string) {}

  emit(routingKey: string, content: unknown): void {
    this.publish(routingKey, content);
  }

  publish(routingKey: string, content: unknown): void {
    const listeners = this.listeners;
    if (!listeners) return;
    for (const listener of listeners.length === 1 ? listeners : listeners.slice()) {
      if (listener.broker ? !IGNORED_BY_BROKER.has(routingKey) : listener.compiled.test(routingKey)) this.deliver(listener, routingKey, content);
    }
  }

  on(pattern: string, handler: EventHandler, options?: { consumerTag?: string }, broker = false) {
    const tools = entityEventsTools as EntityEventsTools;
    const listener: EventListener = {
      pattern,
      compiled: pattern === "#" ? MATCH_ALL : tools.compilePattern(pattern),
      handler,
      consumerTag: broker ? "" : options?.consumerTag ?? tools.newConsumerTag(),
      broker,
      busy: false,
      waiting: null,
    };
    (this.listeners ??= []).push(listener);
    return { consumerTag: listener.consumerTag, cancel: () => this.remove(listener) };
  }

  off(pattern: string, handler: EventHandler & { consumerTag?: string }): void {
    for (const listener of this.listeners?.slice() ?? []) {
      if (listener.pattern !== pattern) continue;
      if (handler.consumerTag ? listener.consumerTag === handler.consumerTag : listener.handler === handler) this.remove(listener);
    }
  }

  private remove(listener: EventListener): void {
    const index = this.listeners?.indexOf(listener) ?? -1;
    if (index !== -1) this.listeners?.splice(index, 1);
  }

  private deliver(listener: EventListener, routingKey: string, content: unknown): void {
    if (listener.busy) {
      (listener.waiting ??= []).push({ routingKey, content });
      return;
    }
    listener.busy = true;
    try {
      let next: { routingKey: string; content: unknown } | undefined = { routingKey, content };
      while (next) {
        const message = listener.broker
          ? { content: next.content }
          : (entityEventsTools as EntityEventsTools).makeMessage(next.routingKey, this.name, next.content, listener.consumerTag);
        listener.handler(next.routingKey, message, this);
        next = listener.waiting?.shift();
      }
    } finally {
      listener.busy = false;
    }
  }
}

/**
 * Queues made by the broker (Broker.createQueue as smqp has it) and exchanges made anywhere get EntityEvents in place
 * of an event exchange; the broker's listener is registered on them as a broker listener.
 */
function installEntityEvents(brokerModule: SmqpBrokerModule, queueModule: SmqpQueueModule, messageModule: SmqpMessageModule, shared: SmqpShared, errors: SmqpErrors): void {
  type Broker = Record<symbol, unknown> & { getQueue(name: string): unknown };
  type BrokerEventHandler = { handler: EventHandler; listen(emitter: unknown): void };
  const brokerPrototype = brokerModule.Broker.prototype as Broker & { createQueue: unknown };
  const Queue = queueModule.Queue as unknown as new (name: string, options: unknown, events: unknown) => unknown;
  entityEventsTools = {
    compilePattern: (pattern) => shared.getRoutingKeyPattern(pattern),
    makeMessage: (routingKey, exchange, content, consumerTag) => {
      const message = new messageModule.Message(newMessageFields(routingKey, exchange), content, undefined, undefined) as { fields: Record<string, unknown> };
      message.fields.consumerTag = consumerTag;
      return message;
    },
    newConsumerTag: () => `smq.ctag-${shared.generateId()}`,
  };
  const probe = new (brokerModule.Broker as unknown as new () => Broker)();
  const handlerPrototype = Object.getPrototypeOf(probe[kEventHandler]) as BrokerEventHandler;
  const smqpListen = handlerPrototype.listen;
  handlerPrototype.listen = function listen(this: BrokerEventHandler, emitter: unknown) {
    if (emitter instanceof EntityEvents) emitter.on("#", this.handler, undefined, true);
    else smqpListen.call(this, emitter);
  };
  brokerPrototype.createQueue = function createQueue(this: Broker, queueName: string | null | undefined, options: unknown) {
    if (queueName && typeof queueName !== "string") throw new TypeError("queue name must be a string");
    else if (!queueName) queueName = `smq.qname-${shared.generateId()}`;
    else if (this.getQueue(queueName)) throw new errors.SmqpError(`Queue named ${queueName} already exists`, errors.ERR_QUEUE_NAME_CONFLICT);
    const events = new EntityEvents(`${queueName}__events`);
    (this[kEventHandler] as BrokerEventHandler).listen(events);
    const queue = new Queue(queueName, options, events);
    (this[kEntities] as Map<string, Map<string, unknown>>).get("queues")?.set(queueName, queue);
    return queue;
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
    return makeExchange(name, type, options, new EntityEvents(`${name}__events`));
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
