// Contact ID event codes → SafetyEvent kinds and severities (SIA DC-05 code groups; unknown codes stay raw).
import type { Severity } from "../../events";

export interface EventCodeMeaning {
  kind: string;
  severity: Severity;
  /** English and Chinese names, for details and dashboards. */
  name: string;
  nameZh: string;
  /** Silent panic: no local sound; the flow must alert authorities without sounding anything on site. */
  silent?: boolean;
}

const TABLE: Record<string, EventCodeMeaning> = {
  "100": { kind: "medical", severity: "high", name: "medical", nameZh: "医疗求助" },
  "101": { kind: "medical", severity: "high", name: "personal emergency", nameZh: "个人紧急求助" },
  "110": { kind: "fire", severity: "critical", name: "fire", nameZh: "火警" },
  "111": { kind: "fire", severity: "critical", name: "smoke", nameZh: "烟雾" },
  "112": { kind: "fire", severity: "critical", name: "combustion", nameZh: "燃烧" },
  "113": { kind: "fire", severity: "critical", name: "water flow", nameZh: "水流" },
  "114": { kind: "fire", severity: "critical", name: "heat", nameZh: "高温" },
  "115": { kind: "fire", severity: "critical", name: "pull station", nameZh: "手动报警按钮" },
  "116": { kind: "fire", severity: "critical", name: "duct", nameZh: "风管" },
  "117": { kind: "fire", severity: "critical", name: "flame", nameZh: "火焰" },
  "118": { kind: "fire", severity: "high", name: "near alarm", nameZh: "火警预警" },
  "120": { kind: "panic", severity: "critical", name: "panic", nameZh: "紧急求助" },
  "121": { kind: "duress", severity: "critical", name: "duress", nameZh: "胁迫" },
  "122": { kind: "panic-silent", severity: "critical", name: "silent panic", nameZh: "无声求助", silent: true },
  "123": { kind: "panic", severity: "critical", name: "audible panic", nameZh: "有声求助" },
  "124": { kind: "duress", severity: "critical", name: "duress, access granted", nameZh: "胁迫开门" },
  "125": { kind: "duress", severity: "critical", name: "duress, egress granted", nameZh: "胁迫出门" },
  "130": { kind: "burglary", severity: "high", name: "burglary", nameZh: "入侵" },
  "131": { kind: "burglary", severity: "high", name: "perimeter", nameZh: "周界入侵" },
  "132": { kind: "burglary", severity: "high", name: "interior", nameZh: "室内入侵" },
  "133": { kind: "burglary", severity: "high", name: "24-hour", nameZh: "24 小时防区" },
  "134": { kind: "burglary", severity: "high", name: "entry/exit", nameZh: "出入口" },
  "135": { kind: "burglary", severity: "high", name: "day/night", nameZh: "日夜防区" },
  "136": { kind: "burglary", severity: "high", name: "outdoor", nameZh: "室外" },
  "137": { kind: "tamper", severity: "high", name: "burglary tamper", nameZh: "防拆" },
  "139": { kind: "burglary", severity: "high", name: "verified intrusion", nameZh: "确认入侵" },
  "144": { kind: "tamper", severity: "high", name: "sensor tamper", nameZh: "探测器防拆" },
  "145": { kind: "tamper", severity: "high", name: "expansion module tamper", nameZh: "扩展模块防拆" },
  "301": { kind: "power-loss", severity: "medium", name: "AC loss", nameZh: "交流电断电" },
  "302": { kind: "battery-low", severity: "low", name: "low system battery", nameZh: "主机电池电量低" },
  "383": { kind: "tamper", severity: "high", name: "sensor tamper", nameZh: "探测器防拆" },
  "384": { kind: "battery-low", severity: "low", name: "RF low battery", nameZh: "无线探测器电量低" },
  "570": { kind: "zone-bypass", severity: "low", name: "zone bypass", nameZh: "防区旁路" },
  "602": { kind: "test-report", severity: "info", name: "periodic test", nameZh: "定期测试" },
};

const OPEN_CLOSE: EventCodeMeaning = { kind: "arming", severity: "info", name: "open/close", nameZh: "布撤防" };

export function meaningOf(eventCode: string): EventCodeMeaning | undefined {
  if (TABLE[eventCode]) return TABLE[eventCode];
  if (/^40\d$/.test(eventCode)) return OPEN_CLOSE;
  return undefined;
}
