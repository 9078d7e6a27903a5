"""The phrase bank the demo drafts are written from: titles, paragraphs and sign-offs in 公文 style."""

from __future__ import annotations

import random
from datetime import date
from typing import Literal

from daemon.samples.publicists import PANJIN_UNITS, DemoPublicist, _rows

# category | title template. Slots: {u} the unit as drafts name it, {place}, {comm}, {co}, {season}.
_TITLES = _rows("""
inspect|{u}开展{season}安全生产大检查
inspect|{u}对{co}开展安全生产执法检查
inspect|{u}扎实推进危险化学品企业安全风险隐患专项整治
inspect|{u}深入{place}开展燃气安全专项排查整治
inspect|{u}开展有限空间作业安全专项检查
inspect|{u}深入{place}督导检查{season}安全生产工作
drill|{u}组织开展防汛抢险应急演练
drill|{u}联合{co}开展危化品泄漏事故应急处置演练
drill|{u}在{comm}开展地震应急疏散演练
drill|{u}开展应急救援队伍拉动演练
publicity|{u}深入{place}开展消防安全宣传活动
publicity|应急科普进社区 安全知识入人心——{u}走进{comm}
publicity|{u}开展“安全生产月”集中宣传咨询日活动
publicity|{u}开展防灾减灾科普宣传进校园活动
duty|{u}召开汛期值班值守工作部署会
duty|{u}深入{place}督导防汛备汛工作
duty|{u}开展防汛物资储备情况检查
meeting|{u}召开安全生产形势分析会
meeting|{u}召开危化企业安全生产约谈会
meeting|{u}举办安全生产执法业务培训班
party|{u}党支部开展主题党日活动
party|{u}开展“以案说法”警示教育活动
""")
# category | what the unit did (first paragraph, after the opening and the date)
_ACTIONS = _rows("""
inspect|深入{place}，对{co}等{n1}家企业开展安全生产检查
inspect|对辖区{n1}家重点企业开展“四不两直”暗查暗访
drill|在{co}组织开展{scenario}应急演练
drill|组织{n1}余名救援队员在{place}开展{scenario}实战演练
publicity|在{comm}开展应急科普宣传活动
publicity|走进{place}，开展安全知识“进企业、进社区、进校园”宣传活动
duty|深入{place}检查防汛备汛和值班值守工作
duty|召开专题会议，对汛期值班值守和应急准备工作进行再部署
meeting|召开专题会议，{n1}家重点企业主要负责人参加
meeting|组织召开会议，通报近期安全生产工作情况
party|组织党员干部{n1}余人赴{place}开展主题党日活动
party|组织全体党员干部开展警示教育学习
""")
# category | a detail paragraph
_DETAILS = _rows("""
inspect|检查组采取查阅资料、现场查看、询问员工等方式，重点检查了{items}等情况。
inspect|此次检查共发现各类安全隐患{n2}处，已现场督促整改{n3}处，对其余隐患下达了责令限期整改指令书，明确整改责任、措施和时限，确保隐患整改闭环。
inspect|检查中，检查组要求企业主要负责人切实履行安全生产第一责任人职责，{demand}。
inspect|针对发现的问题，{u}建立问题清单和整改责任清单，实行销号管理，并将适时开展“回头看”，对整改不到位的企业依法严肃处理。
drill|演练模拟{scenario}，现场指挥部接报后迅速启动应急预案，依次开展了{steps}等科目。
drill|各参演单位分工明确、协同有序，共出动救援车辆{n2}台、参演人员{n1}余人，达到了预期效果。
drill|演练结束后，{u}对演练情况进行了现场点评，针对暴露出的{weak}等问题提出了改进意见。
publicity|活动现场，工作人员通过设置咨询台、悬挂宣传条幅、发放宣传资料、现场讲解等方式，向群众普及了{knowledge}等知识。
publicity|本次活动共发放宣传资料{n2}余份，解答群众咨询{n3}余人次，营造了“人人讲安全、个个会应急”的良好氛围。
publicity|工作人员还结合典型事故案例，现场演示了灭火器使用和心肺复苏等技能，引导群众参与互动体验。
duty|检查组实地查看了{facilities}，详细了解防汛物资储备、抢险队伍组建和应急预案修订等情况。
duty|会议强调，要严格执行24小时值班和领导带班制度，值班人员必须在岗在位，确保信息报送及时准确、渠道畅通。
duty|截至目前，已储备编织袋{n2}条、救生衣{n3}件、抽水泵{n1}台，各类防汛物资储备充足。
meeting|会议通报了近期全市安全生产形势和典型事故案例，分析研判了当前面临的风险隐患。
meeting|会议要求，各企业要{demand}，坚决防范遏制各类生产安全事故发生。
meeting|与会企业负责人逐一汇报了本单位隐患排查整改情况，并作出了安全生产承诺。
party|党员干部重温了入党誓词，集中学习了《中华人民共和国安全生产法》等法律法规。
party|大家纷纷表示，要以案为鉴、警钟长鸣，把学习成效转化为做好应急管理工作的实际行动。
party|活动中，{u}还结合典型案例开展了廉政警示教育，引导党员干部守纪律、讲规矩。
""")
# slot | choices, separated by 、 (openings, leads and closings are whole phrases)
_BANK = {k: v.split("、") for k, v in _rows("""
items|安全生产责任制落实、隐患排查治理、特种作业人员持证上岗、应急预案编制及演练、消防设施器材配备、危险化学品储存管理、有限空间作业审批、动火作业管理、安全警示标识设置、双重预防机制运行
demand|全面落实全员安全生产责任制、持续深化隐患排查治理、严格执行特殊作业审批制度、加强从业人员安全教育培训、强化重大危险源安全管控
scenario|储罐区火灾事故、危险化学品泄漏事故、城市内涝险情、河道堤防管涌险情、人员密集场所火灾
steps|接警响应、先期处置、人员疏散、警戒隔离、伤员救治、抢险堵漏、环境监测、舆情引导
weak|信息报送不够及时、现场协同配合不够顺畅、个人防护装备使用不够规范
knowledge|防汛避险、燃气安全、家庭消防、地震逃生、电动自行车安全、防溺水、高温中暑防范
facilities|防汛物资储备库、排涝泵站、堤防险工险段、下穿桥涵、在建工地基坑
co|盘锦辽河化工有限公司、盘锦兴海石化有限公司、辖区某燃气公司、盘锦润达精细化工有限公司、辽河油田某采油作业区、辖区某危化品仓储企业
comm|幸福社区、光明社区、和平社区、兴盛社区、锦绣社区、惠民社区
lead|主要负责同志带队、分管领导带领相关人员、相关科室负责同志一行、联合属地街道（镇）、会同行业主管部门
""")}  # fmt: skip
_OPENINGS = _rows("""
为深入贯彻落实市委、市政府关于安全生产工作的决策部署，
为进一步压实企业安全生产主体责任，有效防范化解重大安全风险，
为切实做好{season}各项安全防范工作，确保人民群众生命财产安全，
为持续提升群众安全意识和自救互救能力，
为扎实推进安全生产治本攻坚三年行动，
按照全市应急管理工作总体部署，
为进一步增强应急处置能力，检验应急预案的科学性和可操作性，
""")
_CLOSINGS = _rows("""
下一步，{u}将持续加大监督检查力度，坚决守牢安全生产底线，为全市经济社会高质量发展营造安全稳定的环境。
下一步，{u}将进一步完善应急预案体系，强化队伍建设和物资保障，全面提升应急处置能力。
下一步，{u}将常态化开展应急科普宣传，不断提升群众防灾减灾意识和自救互救能力。
{u}将以此次活动为契机，持续抓好各项工作落实，切实保障人民群众生命财产安全。
""")
_SEASONS = {1: "春节前后", 2: "春节前后", 6: "汛期", 7: "主汛期", 8: "主汛期", 9: "国庆节前", 12: "岁末年初"}


def _draft_text(rng: random.Random, pub: DemoPublicist, day: date) -> tuple[str, list[str]]:
    """A title and 2-5 body paragraphs about one piece of the unit's work around `day`."""
    category, title = rng.choice(_TITLES)
    slots = {k: rng.choice(v) for k, v in _BANK.items()}
    slots.update(
        u=pub.press,
        season=_SEASONS.get(day.month, "夏季" if day.month < 9 else "秋冬季"),
        place=rng.choice(pub.places),
        comm=rng.choice(pub.places[:3]) + slots["comm"],
        n1=str(rng.randrange(5, 60)),
        n2=str(rng.randrange(20, 300)),
        n3=str(rng.randrange(10, 200)),
        items="、".join(rng.sample(_BANK["items"], 4)),
        steps="、".join(rng.sample(_BANK["steps"], 4)),
    )
    action = rng.choice([a for c, a in _ACTIONS if c == category])
    opening = rng.choice(_OPENINGS)[0]
    body = [f"{opening}{day.month}月{day.day}日，{{u}}{slots['lead']}，{action}。"]
    body += rng.sample([d for c, d in _DETAILS if c == category], rng.randint(1, 3))
    if rng.random() < 0.7:
        body.append(rng.choice(_CLOSINGS)[0])
    return title.format(**slots), [p.format(**slots) for p in body]


Signoff = Literal["full", "no_second_reviewer", "no_author"]


def _author(rng: random.Random, pub: DemoPublicist, name: str) -> str:
    """One author as publicists write it: the unit (or an alias; a county's 科室 in parentheses), the name."""
    aliases = next(a for n, _, a in PANJIN_UNITS if n == pub.unit)
    unit = rng.choice((pub.unit, pub.unit, aliases[0]))
    if pub.section and rng.random() < 0.6:
        return f"{unit}({pub.section}){name}" if rng.random() < 0.5 else f"{unit}（{pub.section}）{name}"
    return f"{unit} {name}"


def _signoff(
    rng: random.Random, pub: DemoPublicist, kind: Signoff, coauthor: DemoPublicist | None
) -> list[str]:
    """附件3's last lines: 撰稿人 (co-authors of other units after ；, a colleague after 、), then reviewers."""
    colon = rng.choice((":", "："))
    writers = _author(rng, pub, pub.name)
    if coauthor is not None:
        writers += "；" + _author(rng, coauthor, coauthor.name)
    elif rng.random() < 0.15:
        writers += f"、{pub.colleague}"
    lines = [] if kind == "no_author" else [f"撰稿人{colon}{writers}"]
    first, second = f"初审人{colon}{pub.first_reviewer}", f"复审人{colon}{pub.second_reviewer}"
    if kind == "no_second_reviewer":
        return [*lines, first]
    if rng.random() < 0.6:
        return [*lines, first + rng.choice(("    ", "　　", "  ")) + second]
    return [*lines, first, second]
