// SOAP plumbing: malformed documents and faults become typed errors with clear messages; the request envelope is signed.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { DeviceProtocolError } from "../../../../lib/errors";
import { OnvifAuthError, OnvifFaultError, OnvifUnreachableError, SoapTransport, envelope, passwordDigest, readNotify, readPullMessages, responseBody } from "../../../../lib/devices/onvif";
import { parseXml } from "../../../../lib/devices/onvif/xml";
import { freePort } from "../../../support/processes";

describe("ONVIF SOAP", function () {
  it("rejects malformed XML with a DeviceProtocolError naming the document and the problem", function () {
    assert.throws(() => parseXml("<s:Envelope><s:Body></s:Envelope>", "PullMessages"), (err: Error) => err instanceof DeviceProtocolError && /^PullMessages: malformed XML \(Expected closing tag/.test(err.message));
    assert.throws(() => parseXml("  ", "Notify"), /Notify: empty body where XML was expected/);
  });

  it("rejects a Notify without NotificationMessage topics or messages, and a response without the expected element", function () {
    const env = (inner: string) => responseBody(parseXml(`<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body>${inner}</e:Body></e:Envelope>`, "t"), "t");
    assert.throws(() => readNotify(env("<Notify><NotificationMessage><Message><Message/></Message></NotificationMessage></Notify>")), /NotificationMessage 1 has no Topic/);
    assert.throws(() => readNotify(env("<Notify><NotificationMessage><Topic>tns1:X</Topic></NotificationMessage></Notify>")), /NotificationMessage 1 \(tns1:X\) has no tt:Message/);
    assert.throws(() => readPullMessages(env("<Other/>")), (err: Error) => err instanceof DeviceProtocolError && /PullMessagesResponse is missing/.test(err.message));
    assert.throws(() => responseBody(parseXml("<html><body>login</body></html>", "t"), "GetProfiles"), /GetProfiles: the response is not a SOAP Envelope/);
  });

  it("signs the envelope with a UsernameToken digest that verifies, and adds MessageID, Action and To when asked", function () {
    const xml = envelope("<X/>", { auth: { username: "admin", password: "admin123", createdAt: new Date("2026-11-23T20:29:41.113Z") }, messageId: true, to: "http://cam/sub?a=1&b=2", action: "urn:act" });
    const nonce = Buffer.from(/<Nonce[^>]*>([^<]+)</.exec(xml)![1], "base64");
    assert.equal(/<Password[^>]*>([^<]+)</.exec(xml)![1], passwordDigest(nonce, "2026-11-23T20:29:41.113Z", "admin123"));
    assert.match(xml, /<a:MessageID>urn:uuid:[0-9a-f-]{36}<\/a:MessageID>/);
    assert.match(xml, /<a:To>http:\/\/cam\/sub\?a=1&amp;b=2<\/a:To>/);
    assert.match(xml, /<a:Action>urn:act<\/a:Action>/);
  });

  describe("over HTTP", function () {
    let server: http.Server;
    let reply: (req: http.IncomingMessage, res: http.ServerResponse) => void;
    let url: string;
    const transport = new SoapTransport({ username: "admin", password: "admin123", clockOffsetMs: () => 0 });
    const call = () => transport.call({ url, body: "<GetDeviceInformation/>", authenticate: true, timeoutMs: 1000, operation: "GetDeviceInformation" });

    before(async function () {
      server = http.createServer((req, res) => reply(req, res));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/onvif/device_service`;
    });
    after(function () {
      transport.close();
      server.closeAllConnections();
      server.close();
    });

    it("turns a ter:NotAuthorized fault into OnvifAuthError", async function () {
      reply = (_req, res) =>
        res.writeHead(400, { "Content-Type": "application/soap+xml" }).end(
          `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:ter="http://www.onvif.org/ver10/error"><env:Body><env:Fault><env:Code><env:Value>env:Sender</env:Value><env:Subcode><env:Value>ter:NotAuthorized</env:Value></env:Subcode></env:Code><env:Reason><env:Text xml:lang="en">Sender not Authorized</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>`,
        );
      await assert.rejects(call(), (err: Error) => err instanceof OnvifAuthError && /SOAP fault Sender\/NotAuthorized "Sender not Authorized"/.test(err.message));
    });

    it("turns HTTP 401 without a Digest challenge into OnvifAuthError", async function () {
      reply = (_req, res) => res.writeHead(401).end();
      await assert.rejects(call(), (err: Error) => err instanceof OnvifAuthError && /HTTP 401/.test(err.message));
    });

    it("answers an HTTP Digest challenge once and succeeds when the camera accepts it", async function () {
      let attempts = 0;
      reply = (req, res) => {
        attempts += 1;
        if (!req.headers.authorization) return res.writeHead(401, { "WWW-Authenticate": 'Digest realm="cam", nonce="abc", qop="auth"' }).end();
        assert.match(req.headers.authorization, /^Digest username="admin", realm="cam", nonce="abc", uri="\/onvif\/device_service", response="[0-9a-f]{32}"/);
        res.writeHead(200).end(`<Envelope><Body><GetDeviceInformationResponse><Model>M</Model></GetDeviceInformationResponse></Body></Envelope>`);
      };
      const body = await call();
      assert.ok(body.GetDeviceInformationResponse);
      assert.equal(attempts, 2);
    });

    it("turns other faults into OnvifFaultError with codes and HTTP status", async function () {
      reply = (_req, res) => res.writeHead(500).end(fsFault);
      await assert.rejects(call(), (err: Error) => err instanceof OnvifFaultError && err.httpStatus === 500 && err.codes.join("/") === "Receiver/Action/ActionFailed");
    });

    it("turns a 200 with an HTML page into a DeviceProtocolError", async function () {
      reply = (_req, res) => res.writeHead(200).end("<html><body>Login</body>");
      await assert.rejects(call(), (err: Error) => err instanceof DeviceProtocolError && /GetDeviceInformation at .*malformed XML/.test(err.message));
    });

    it("turns a refused connection and a silent camera into OnvifUnreachableError", async function () {
      const closedPort = await freePort();
      await assert.rejects(
        transport.call({ url: `http://127.0.0.1:${closedPort}/onvif/device_service`, body: "<X/>", authenticate: false, timeoutMs: 500, operation: "X" }),
        (err: Error) => err instanceof OnvifUnreachableError && /ECONNREFUSED/.test(err.message),
      );
      reply = () => undefined;
      await assert.rejects(call(), (err: Error) => err instanceof OnvifUnreachableError && /no answer within 1000 ms/.test(err.message));
    });
  });
});

const fsFault = `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" xmlns:ter="http://www.onvif.org/ver10/error"><SOAP-ENV:Body><SOAP-ENV:Fault><SOAP-ENV:Code><SOAP-ENV:Value>SOAP-ENV:Receiver</SOAP-ENV:Value><SOAP-ENV:Subcode><SOAP-ENV:Value>ter:Action</SOAP-ENV:Value><SOAP-ENV:Subcode><SOAP-ENV:Value>ter:ActionFailed</SOAP-ENV:Value></SOAP-ENV:Subcode></SOAP-ENV:Subcode></SOAP-ENV:Code><SOAP-ENV:Reason><SOAP-ENV:Text xml:lang="en">Action failed</SOAP-ENV:Text></SOAP-ENV:Reason></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>`;
