// Child process for speedups.spec: drives smqp's broker through what the speedups replace (consumers' internal
// queues, queue events, exchange delivery) — prefetch, acks and nacks in any order, requeues, cancelled consumers,
// queues deleted under their bindings, publishes made while a message is handled, expiring messages, errors, the
// broker's bookkeeping, a shovel, returned messages, saved and recovered state — and prints everything it saw, with
// generated ids and clock readings replaced by their order of appearance, so runs with and without the speedups can be
// compared.
import { installSpeedups, speedupsInstalled } from "../../../lib/process/embedded/speedups";

installSpeedups();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const smqp = require("smqp") as { Broker: new (owner?: unknown) => Broker };

interface Message {
  fields: Record<string, unknown>;
  content: unknown;
  properties: Record<string, unknown>;
  ack(allUpTo?: boolean): void;
  nack(allUpTo?: boolean, requeue?: boolean): void;
}
type OnMessage = (routingKey: string, message: Message, owner: unknown) => void;
interface Consumer {
  consumerTag: string;
  messageCount: number;
  capacity: number;
  ready: boolean;
  cancel(requeue?: boolean): void;
  prefetch(count: number): void;
  on(event: string, handler: (...args: unknown[]) => void): unknown;
}
interface Queue {
  name: string;
  messageCount: number;
  consumerCount: number;
  on(event: string, handler: (...args: unknown[]) => void): { cancel(): void } | undefined;
  off(event: string, handler: unknown): void;
  consume(onMessage: OnMessage, options?: Record<string, unknown>): Consumer;
  cancel(consumerTag: string): boolean;
  purge(): number;
  get(options?: Record<string, unknown>): Message | false;
}
interface Exchange {
  name: string;
  bindingCount: number;
  publish(routingKey: string, content: unknown, properties?: Record<string, unknown>): unknown;
}
interface Broker {
  queueCount: number;
  consumerCount: number;
  exchangeCount: number;
  assertExchange(name: string, type?: string, options?: Record<string, unknown>): Exchange;
  assertQueue(name: string, options?: Record<string, unknown>): Queue;
  bindQueue(queue: string, exchange: string, pattern: string, options?: Record<string, unknown>): unknown;
  unbindQueue(queue: string, exchange: string, pattern: string): void;
  deleteQueue(name: string, options?: Record<string, unknown>): unknown;
  deleteExchange(name: string, ifUnused?: boolean): boolean;
  getQueue(name: string): Queue | undefined;
  getExchange(name: string): Exchange | undefined;
  subscribe(exchange: string, pattern: string, queue: string | null, onMessage: OnMessage, options?: Record<string, unknown>): Consumer;
  subscribeTmp(exchange: string, pattern: string, onMessage: OnMessage, options?: Record<string, unknown>): Consumer;
  subscribeOnce(exchange: string, pattern: string, onMessage: OnMessage, options?: Record<string, unknown>): Consumer;
  consume(queue: string, onMessage: OnMessage, options?: Record<string, unknown>): Consumer;
  cancel(consumerTag: string): boolean;
  publish(exchange: string, routingKey: string, content?: unknown, properties?: Record<string, unknown>): unknown;
  sendToQueue(queue: string, content: unknown, properties?: Record<string, unknown>): unknown;
  createShovel(name: string, source: Record<string, unknown>, destination: Record<string, unknown>, options?: Record<string, unknown>): { close(): void };
  closeShovel(name: string): boolean;
  on(event: string, handler: (event: Record<string, unknown>) => void): unknown;
  getState(onlyWithContent?: boolean): unknown;
  recover(state?: unknown): Broker;
  stop(): void;
  close(): void;
}

const trace: unknown[] = [];
const log = (...entry: unknown[]) => trace.push(entry);
const seen = (message: Message) => ({ fields: { ...message.fields }, content: message.content, redelivered: message.fields.redelivered ?? false });
const counts = (broker: Broker, ...queues: string[]) => ({
  queues: broker.queueCount,
  consumers: broker.consumerCount,
  exchanges: broker.exchangeCount,
  messages: queues.map((name) => broker.getQueue(name)?.messageCount ?? null),
});
const failure = (work: () => unknown) => {
  try {
    work();
    return null;
  } catch (err) {
    return { message: (err as Error).message, code: (err as { code?: string }).code ?? null };
  }
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function scenarios(): Promise<void> {
  // Prefetch 3, acks out of order and after the handler returned; the consumer fills, stops, frees.
  {
    const broker = new smqp.Broker({ name: "owner" });
    broker.assertExchange("work", "topic");
    broker.assertQueue("jobs", { durable: true });
    broker.bindQueue("jobs", "work", "job.#");
    const held: Message[] = [];
    const consumer = broker.consume("jobs", (routingKey, message) => {
      held.push(message);
      log("prefetch", routingKey, seen(message), consumer?.messageCount, consumer?.capacity, consumer?.ready);
    }, { prefetch: 3, consumerTag: "worker-1" });
    for (let i = 0; i < 6; i += 1) broker.publish("work", `job.${i}`, { i });
    log("prefetch filled", counts(broker, "jobs"), consumer.messageCount, consumer.capacity, consumer.ready);
    held[1].ack();
    log("after ack 1", counts(broker, "jobs"), consumer.messageCount, consumer.capacity, consumer.ready);
    held[0].nack(false, true);
    log("after nack 0", counts(broker, "jobs"), consumer.messageCount, consumer.capacity, consumer.ready);
    held[3].ack(true);
    log("after ack all up to 3", counts(broker, "jobs"), consumer.messageCount);
    consumer.prefetch(1);
    for (const message of held.slice()) message.ack();
    log("after acks", counts(broker, "jobs"), consumer.messageCount, consumer.capacity, consumer.ready);
    for (const message of held.slice()) message.ack();
    log("drained", counts(broker, "jobs"), held.length);
    log("state", broker.getState());
  }

  // Publishes made while handling wait for the handler; nested subscribers see them in order.
  {
    const broker = new smqp.Broker();
    broker.assertExchange("events", "topic");
    const order: string[] = [];
    broker.subscribeTmp("events", "a.#", (routingKey, message) => {
      order.push(`first:${routingKey}`);
      if (routingKey === "a.1") {
        broker.publish("events", "a.2", {});
        broker.publish("events", "b.1", {});
      }
      message.ack();
    });
    broker.subscribeTmp("events", "#", (routingKey) => order.push(`all:${routingKey}`), { noAck: true });
    broker.subscribeOnce("events", "b.#", (routingKey) => order.push(`once:${routingKey}`));
    broker.publish("events", "a.1", {});
    broker.publish("events", "b.2", {});
    log("nested order", order, counts(broker));
  }

  // A cancelled consumer's unacked messages go to the next; an auto-delete queue goes with its last consumer and
  // takes its bindings along; queue and consumer events reach their listeners.
  {
    const broker = new smqp.Broker();
    const exchange = broker.assertExchange("topic", "topic");
    broker.assertQueue("shared", { durable: false, autoDelete: true });
    broker.bindQueue("shared", "topic", "#");
    const queue = broker.getQueue("shared") as Queue;
    queue.on("delete", (...args) => log("queue delete heard", (args[0] as string) ?? null, Boolean((args[1] as Message)?.content)));
    queue.on("consume", (...args) => log("queue consume heard", args[0]));
    const first = broker.consume("shared", (routingKey, message) => log("first got", routingKey, seen(message)), { prefetch: 2, consumerTag: "first" });
    first.on("cancel", (...args) => log("consumer cancel heard", args[0]));
    for (let i = 0; i < 3; i += 1) broker.publish("topic", `m.${i}`, { i });
    const second = broker.consume("shared", (routingKey, message) => {
      log("second got", routingKey, seen(message));
      message.ack();
    }, { consumerTag: "second", priority: 1 });
    broker.publish("topic", "m.3", { i: 3 });
    log("before cancel", counts(broker, "shared"), exchange.bindingCount);
    broker.cancel("first");
    log("after cancel first", counts(broker, "shared"), exchange.bindingCount);
    second.cancel();
    log("after cancel second", counts(broker, "shared"), exchange.bindingCount, broker.getQueue("shared") === undefined);
    log("exclusive", failure(() => {
      broker.assertQueue("solo");
      broker.consume("solo", () => undefined, { exclusive: true });
      broker.consume("solo", () => undefined);
    }));
    log("exclusive late", failure(() => broker.consume("solo", () => undefined, { exclusive: true })));
    broker.assertQueue("pair");
    log("tag taken", failure(() => broker.consume("pair", () => undefined, { consumerTag: "dup" }) && broker.consume("pair", () => undefined, { consumerTag: "dup" })));
    log("after errors", counts(broker, "solo", "pair"));
    log("purge", (broker.getQueue("solo") as Queue).purge());
    broker.deleteQueue("solo");
    log("after delete", counts(broker));

    // A queue event raised while a listener handles one waits for it.
    broker.assertQueue("watched");
    broker.sendToQueue("watched", "w1");
    broker.sendToQueue("watched", "w2");
    const watched = broker.getQueue("watched") as Queue;
    watched.on("#", (...args) => {
      const routingKey = args[0] as string;
      log("watched heard", routingKey);
      if (routingKey === "queue.consume") log("purged while handling", watched.purge());
      log("watched handled", routingKey);
    });
    broker.consume("watched", (_routingKey, message) => log("watched got", message.content));
    log("watched", counts(broker, "watched"));
  }

  // Messages that expire in the queue, and one that expires while it waits behind a message being handled.
  {
    const broker = new smqp.Broker();
    broker.assertQueue("ttl", { messageTtl: 5 });
    broker.sendToQueue("ttl", "old");
    await sleep(20);
    broker.sendToQueue("ttl", "fresh");
    const got: unknown[] = [];
    broker.consume("ttl", (_routingKey, message) => {
      got.push(message.content);
      if (message.content === "fresh") {
        broker.sendToQueue("ttl", "late", { expiration: 1 });
        const until = Date.now() + 10;
        while (Date.now() < until) {
          // let "late" expire behind this one
        }
      }
      message.ack();
    }, { prefetch: 2 });
    log("ttl", got, counts(broker, "ttl"));
  }

  // Returned and undelivered messages; a shovel between exchanges; a deleted exchange ends the shovel.
  {
    const broker = new smqp.Broker();
    broker.assertExchange("nowhere", "topic");
    broker.on("return", (event) => log("returned", event.name, (event.fields as Record<string, unknown>)?.routingKey ?? null, event.content ?? null));
    broker.publish("nowhere", "lost", { x: 1 }, { mandatory: true });
    broker.assertExchange("direct", "direct");
    broker.assertQueue("d1");
    broker.assertQueue("d2");
    broker.bindQueue("d1", "direct", "k");
    broker.bindQueue("d2", "direct", "k");
    for (let i = 0; i < 4; i += 1) broker.publish("direct", "k", i);
    log("direct round robin", counts(broker, "d1", "d2"));
    const other = new smqp.Broker();
    broker.assertExchange("source", "topic");
    other.assertExchange("target", "topic");
    other.assertQueue("shovelled");
    other.bindQueue("shovelled", "target", "#");
    broker.createShovel("move", { exchange: "source", pattern: "#" }, { broker: other, exchange: "target" });
    broker.publish("source", "s.1", "one");
    log("shovelled", counts(broker), counts(other, "shovelled"));
    broker.deleteExchange("source");
    broker.publish("source", "s.2", "two");
    log("after source deleted", counts(broker), counts(other, "shovelled"), broker.closeShovel("move"));
  }

  // Saved with messages in flight, recovered into a new broker, consumed there.
  {
    const broker = new smqp.Broker();
    broker.assertExchange("saved", "topic");
    broker.assertQueue("keep", { durable: true });
    broker.bindQueue("keep", "saved", "#");
    broker.consume("keep", (routingKey, message) => log("before save", routingKey, seen(message)), { prefetch: 2 });
    for (let i = 0; i < 3; i += 1) broker.publish("saved", `s.${i}`, { i });
    broker.stop();
    const state = JSON.parse(JSON.stringify(broker.getState())) as unknown;
    log("saved state", state);
    const recovered = new smqp.Broker().recover(state);
    recovered.consume("keep", (routingKey, message) => {
      log("after recover", routingKey, seen(message));
      message.ack();
    });
    log("recovered", counts(recovered, "keep"), recovered.getState(true));
  }
}

function normalise(text: string): string {
  const ids = new Map<string, string>();
  return text
    .replace(/("(?:timestamp|ttl)":)\d+/g, "$1\"<time>\"")
    .replace(/smq\.([a-z]+)-[0-9a-z]+/g, (id, kind: string) => {
      if (!ids.has(id)) ids.set(id, `smq.${kind}#${ids.size}`);
      return ids.get(id) as string;
    });
}

scenarios().then(
  () => process.stdout.write(normalise(JSON.stringify({ speedups: speedupsInstalled(), trace }))),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
