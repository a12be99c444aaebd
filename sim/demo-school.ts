// The demo school that `npm start` seeds once: a primary school with gates, classrooms, 1,200 students and staff.
import type { Store } from "../lib/store";
import type { Building, ClassGroup, Device, Person, Site, Zone } from "../lib/store";

export const DEMO_SCHOOL_ID = "demo-school";
export const GRADES = 6;
export const CLASSES_PER_GRADE = 4;
export const STUDENTS_PER_CLASS = 50;

const GRADE_NAMES = ["一", "二", "三", "四", "五", "六"];
const SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢".split("");
const GIVEN = "子涵欣怡梓轩浩然一诺雨桐宇轩思琪俊杰佳怡博文诗涵明轩可馨天佑若曦嘉懿语嫣睿泽雅琪铭泽梦瑶皓轩紫萱".split("");

/** A small deterministic generator, so every fresh install seeds the same school. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function chineseName(random: () => number): string {
  const surname = SURNAMES[Math.floor(random() * SURNAMES.length)];
  const length = random() < 0.7 ? 2 : 1;
  let given = "";
  for (let i = 0; i < length; i += 1) given += GIVEN[Math.floor(random() * GIVEN.length)];
  return surname + given;
}

export interface DemoSchool {
  sites: Site[];
  buildings: Building[];
  zones: Zone[];
  classes: ClassGroup[];
  people: Omit<Person, "createdAt">[];
  devices: Device[];
}

export function buildDemoSchool(schoolId = DEMO_SCHOOL_ID): DemoSchool {
  const random = seededRandom(20260901);
  const id = (suffix: string) => `${schoolId}-${suffix}`;
  const siteId = id("main");
  const sites: Site[] = [{ id: siteId, schoolId, name: "主校区", address: "示范路 1 号" }];
  const building = (suffix: string, name: string, floors: number): Building => ({
    id: id(suffix),
    schoolId,
    siteId,
    name,
    floors,
  });
  const buildings = [
    building("bldg-a", "教学楼 A", 4),
    building("bldg-b", "教学楼 B", 4),
    building("bldg-admin", "行政楼", 3),
    building("bldg-gym", "体育馆", 1),
  ];
  const zone = (suffix: string, kind: Zone["kind"], name: string, buildingId: string | null, floor: number | null): Zone => ({
    id: id(suffix),
    schoolId,
    siteId,
    buildingId,
    kind,
    name,
    floor,
  });
  const zones: Zone[] = [
    zone("gate-north", "gate", "北门(正门)", null, null),
    zone("gate-south", "gate", "南门", null, null),
    zone("gate-east", "gate", "东门(后勤)", null, null),
    zone("perimeter", "perimeter", "围墙周界", null, null),
    zone("playground", "playground", "操场", null, null),
    zone("assembly-1", "assembly-point", "疏散集合点 1(操场东)", null, null),
    zone("assembly-2", "assembly-point", "疏散集合点 2(操场西)", null, null),
    zone("duty-room", "duty-room", "值班室", id("bldg-admin"), 1),
    zone("principal-office", "office", "校长办公室", id("bldg-admin"), 3),
    zone("nurse-office", "office", "医务室", id("bldg-admin"), 1),
    zone("library", "library", "图书馆", id("bldg-admin"), 2),
    zone("canteen", "canteen", "食堂", null, null),
    zone("gym", "gym", "体育馆", id("bldg-gym"), 1),
    zone("lab-science", "lab", "科学实验室", id("bldg-b"), 4),
  ];

  const classes: ClassGroup[] = [];
  const people: Omit<Person, "createdAt">[] = [];
  let teacherNo = 0;
  for (let grade = 1; grade <= GRADES; grade += 1) {
    const buildingId = grade <= 3 ? id("bldg-a") : id("bldg-b");
    const floor = grade <= 3 ? grade : grade - 3;
    for (let n = 1; n <= CLASSES_PER_GRADE; n += 1) {
      const classId = id(`g${grade}c${n}`);
      const roomZone = zone(`room-g${grade}c${n}`, "classroom", `${GRADE_NAMES[grade - 1]}年级${n}班教室`, buildingId, floor);
      zones.push(roomZone);
      teacherNo += 1;
      const teacherId = id(`teacher-${String(teacherNo).padStart(3, "0")}`);
      people.push({ id: teacherId, schoolId, role: "teacher", name: chineseName(random), grade: null, classId: null, status: "active" });
      classes.push({
        id: classId,
        schoolId,
        grade,
        name: `${GRADE_NAMES[grade - 1]}年级${n}班`,
        classroomZoneId: roomZone.id,
        homeroomTeacherId: teacherId,
      });
      for (let s = 1; s <= STUDENTS_PER_CLASS; s += 1) {
        people.push({
          id: id(`s${grade}${String(n).padStart(2, "0")}${String(s).padStart(2, "0")}`),
          schoolId,
          role: "student",
          name: chineseName(random),
          grade,
          classId,
          status: "active",
        });
      }
    }
  }
  const staff = (prefix: string, role: Person["role"], count: number) => {
    for (let i = 1; i <= count; i += 1) {
      people.push({
        id: id(`${prefix}-${String(i).padStart(3, "0")}`),
        schoolId,
        role,
        name: chineseName(random),
        grade: null,
        classId: null,
        status: "active",
      });
    }
  };
  for (let i = 1; i <= 12; i += 1) {
    teacherNo += 1;
    people.push({
      id: id(`teacher-${String(teacherNo).padStart(3, "0")}`),
      schoolId,
      role: "teacher",
      name: chineseName(random),
      grade: null,
      classId: null,
      status: "active",
    });
  }
  staff("principal", "principal", 1);
  staff("duty", "duty-officer", 3);
  staff("guard", "guard", 6);
  staff("nurse", "nurse", 1);
  staff("staff", "staff", 4);

  const device = (suffix: string, kind: string, protocol: string, address: string, zoneSuffix: string, name: string): Device => ({
    id: id(suffix),
    schoolId,
    kind,
    protocol,
    address,
    zoneId: id(zoneSuffix),
    name,
    status: "unknown",
    lastSeen: null,
    details: { simulated: true },
  });
  const devices: Device[] = [
    device("cam-gate-north", "camera", "onvif", "127.0.0.1:8081", "gate-north", "北门摄像机"),
    device("cam-gate-south", "camera", "onvif", "127.0.0.1:8082", "gate-south", "南门摄像机"),
    device("cam-playground", "camera", "gb28181", "34020000001320000001", "playground", "操场摄像机"),
    device("cam-perimeter", "camera", "gb28181", "34020000001320000002", "perimeter", "周界摄像机"),
    device("reader-gate-north", "reader", "osdp", "sim-osdp:1", "gate-north", "北门读卡器"),
    device("reader-gate-south", "reader", "osdp", "sim-osdp:2", "gate-south", "南门读卡器"),
    device("reader-gate-east", "reader", "osdp", "sim-osdp:3", "gate-east", "东门读卡器"),
    device("panel-main", "alarm-panel", "contact-id", "sim-panel:1234", "duty-room", "报警主机"),
    device("panic-duty-room", "panic-button", "contact-id", "sim-panel:1234/zone-1", "duty-room", "值班室一键报警"),
    device("panic-gate-north", "panic-button", "contact-id", "sim-panel:1234/zone-2", "gate-north", "北门一键报警"),
    device("panic-principal", "panic-button", "mqtt", "school/demo/panic/principal", "principal-office", "校长室紧急按钮"),
  ];
  return { sites, buildings, zones, classes, people, devices };
}

/** Seeds the demo school unless it is already there. Returns whether it seeded. */
export async function seedDemoSchool(store: Store, schoolId = DEMO_SCHOOL_ID): Promise<boolean> {
  if (await store.schools.get(schoolId)) return false;
  const demo = buildDemoSchool(schoolId);
  await store.knex.transaction(async (trx) => {
    await store.schools.create({ id: schoolId, name: "示范小学", nameEn: "Demo Primary School", timeZone: "Asia/Shanghai" }, trx);
    await store.schools.addSites(demo.sites, trx);
    await store.schools.addBuildings(demo.buildings, trx);
    await store.schools.addZones(demo.zones, trx);
    await store.people.addClasses(demo.classes, trx);
    await store.people.addPeople(demo.people, trx);
    for (const device of demo.devices) await store.devices.upsert(device, trx);
    await store.users.ensureRoles(schoolId, undefined, trx);
  });
  return true;
}
