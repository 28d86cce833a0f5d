"""简体中文 (zh-CN) wording, for residents, property staff and community workers.

Level names follow China's four-colour early-warning convention (蓝色 IV级 ..
红色 I级). 119 is fire and rescue, 110 the police.
"""

from __future__ import annotations

from edge_agent.text.catalog import Catalog, frozen

ZH_CN = Catalog(
    lang="zh-CN",
    level_names=frozen(
        {
            "blue": "蓝色预警",
            "yellow": "黄色预警",
            "orange": "橙色预警",
            "red": "红色预警",
            "none": "无预警",
        }
    ),
    level_detail=frozen(
        {
            "blue": "IV级，一般",
            "yellow": "III级，较重",
            "orange": "II级，严重",
            "red": "I级，特别严重",
        }
    ),
    hazard_what=frozen(
        {
            "smoke": "检测到烟雾",
            "water": "水位偏高",
            "crowd": "人员过于拥挤",
            "air_quality": "空气质量差",
            "generic": "传感器读数异常",
            "device": "传感器故障",
        }
    ),
    hazard_normal=frozen(
        {
            "smoke": "已检测不到烟雾",
            "water": "水位已恢复正常",
            "crowd": "人数已回到安全范围",
            "air_quality": "空气质量已恢复正常",
            "generic": "读数已恢复正常",
            "device": "传感器已恢复工作",
        }
    ),
    quantity_label=frozen(
        {
            "smoke": "烟雾读数",
            "water": "水位",
            "crowd": "人流",
            "air_quality": "细颗粒物（PM2.5）",
            "generic": "读数",
            "device": "最后读数",
        }
    ),
    event_name=frozen(
        {
            "smoke": "烟雾",
            "water": "水位偏高",
            "crowd": "人员拥挤",
            "air_quality": "空气质量差",
            "generic": "读数异常",
            "device": "传感器故障",
        }
    ),
    fault_phrase=frozen(
        {
            "stale": "传感器无数据",
            "stuck": "传感器读数卡住不变",
            "out_of_range": "传感器读数不合常理",
            "bad_frames": "传感器数据错乱",
            "other": "传感器故障",
        }
    ),
    fault_phrase_dur=frozen(
        {
            "stale": "传感器已{dur}没有数据",
            "stuck": "传感器读数已{dur}没有变化",
            "out_of_range": "传感器读数不合常理已{dur}",
            "bad_frames": "传感器数据错乱已{dur}",
            "other": "传感器故障已{dur}",
        }
    ),
    fault_advice=frozen(
        {
            "stale": (
                "请检查传感器的电源和线缆。传感器没有数据并不代表安全："
                "在恢复之前，请派人到现场查看。"
            ),
            "stuck": (
                "传感器可能被遮挡、弄脏或已损坏，请检查并清洁。修好之前它无法报警，请派人到现场查看。"
            ),
            "out_of_range": ("请检查传感器的接线和安装。修好之前它无法报警，请派人到现场查看。"),
            "bad_frames": ("请检查线缆和接头，并让线缆远离电源线。修好之前它可能漏报真实险情。"),
            "other": ("请检查传感器及其线缆和电源。修好之前它无法报警，请派人到现场查看。"),
        }
    ),
    fault_urgency=frozen(
        {
            "blue": "请在当天内安排检查。",
            "yellow": "请在几小时内安排检查。",
            "orange": "请立即派人检查。",
            "red": "请立即派人检查，并在修好前安排人员现场值守。",
        }
    ),
    advice=frozen(
        {
            "smoke": frozen(
                {
                    "blue": "请留意现场是否有烟味或焦味，并持续关注。",
                    "yellow": (
                        "请立即派人到现场查看：注意烟雾、焦味或过热的设备，保持消防通道畅通。"
                    ),
                    "orange": (
                        "请立即到现场查看并做好疏散准备，不要乘坐电梯。"
                        "如发现明火或浓烟，立即拨打119。"
                    ),
                    "red": "请立即通过楼梯疏散，不要乘坐电梯，并拨打119。疏散后不要返回。",
                }
            ),
            "water": frozen(
                {
                    "blue": "请检查排水口和水泵，关注水位是否继续上涨。",
                    "yellow": "请清理排水口、启动水泵、准备沙袋，并通知地下车库的车主。",
                    "orange": "请立即将车辆移出地下车库，在出入口堆放沙袋，禁止人员进入最底层。",
                    "red": (
                        "禁止任何人进入地下车库和地下室，此时不要再去挪车。"
                        "在确保安全的前提下切断积水区域电源。如有人被困，立即拨打119。"
                    ),
                }
            ),
            "crowd": frozen(
                {
                    "blue": "人数正在增加：请留意各出入口，保持通道畅通。",
                    "yellow": "请控制入场速度，派工作人员引导人流、保持流动。",
                    "orange": "请停止放行入场，开启备用出口，引导人员有序离开。",
                    "red": "请立即停止一切入场，打开全部出口，疏散人群，并拨打110求助。",
                }
            ),
            "air_quality": frozen(
                {
                    "blue": "儿童、老人及哮喘或心脏病患者应减少户外活动。",
                    "yellow": "请关闭门窗，如有空气净化器请开启。敏感人群请留在室内。",
                    "orange": "请避免户外活动，外出时佩戴合适的口罩（N95/KN95）。",
                    "red": "请留在室内并关闭门窗，取消户外活动。如出现呼吸困难，请及时就医。",
                }
            ),
            "generic": frozen(
                {
                    "blue": "请关注这一读数的变化。",
                    "yellow": "请派人到现场查看。",
                    "orange": "请立即到现场查看，并按本单位应急预案处置。",
                    "red": "请立即启动本单位应急预案。如有人员危险，拨打110或119。",
                }
            ),
            "device": frozen(
                {
                    "blue": "请在当天内检查传感器。",
                    "yellow": "请在几小时内检查传感器。",
                    "orange": "请立即检查传感器。",
                    "red": "请立即检查传感器，并在修好前安排人员现场值守。",
                }
            ),
        }
    ),
    cleared_advice=frozen(
        {
            "smoke": "如已疏散，请等工作人员确认安全后再返回。",
            "water": "车辆移回前，请先检查车库和地下室是否有损坏和杂物。",
            "crowd": "可以恢复正常入场，请继续留意各出入口。",
            "air_quality": "可以重新开窗通风。",
            "generic": "无需进一步处理。",
            "device": "该传感器的读数可以重新信任。",
        }
    ),
    title=frozen(
        {
            "raised": "【{level}】{what}（{where}）",
            "escalated": "【{level}·升级】{what}（{where}）",
            "deescalated": "【{level}·降级】{what}（{where}）",
            "cleared": "【预警解除】{normal}（{where}）",
            "acknowledged": "【{level}·已确认】{what}（{where}）",
            "resolved": "【{level}·已处理】{what}（{where}）",
            "acknowledged_nolevel": "【已确认】{what}（{where}）",
            "resolved_nolevel": "【已处理】{what}（{where}）",
        }
    ),
    opening=frozen(
        {
            "raised": "{where}：{what}。",
            "escalated": "{where}：{what}，情况加重，已升级为{level}。",
            "deescalated": "{where}：{what}，情况有所缓和，已降为{level}，但尚未解除。",
            "cleared": "{where}：{normal}，预警解除。",
            "acknowledged": "{where}：{what}，已由{by}确认。预警将持续到险情解除。",
            "resolved": "{where}：{what}，已由{by}处理完毕{verdict}。",
        }
    ),
    verdict=frozen({"true_alarm": "（确认为真实险情）", "false_alarm": "（判定为误报）"}),
    unit_names=frozen(
        {
            "m": "米",
            "cm": "厘米",
            "mm": "毫米",
            "ug/m3": "微克/立方米",
            "persons": "人",
            "persons/m2": "人/平方米",
            "%": "%",
            "ppm": "ppm",
            "degC": "°C",
        }
    ),
    durations=frozen({"s": "{n}秒", "min": "{n}分钟", "h": "{n}小时"}),
    months=frozen({str(i): str(i) for i in range(1, 13)}),
    words=frozen(
        {
            "building": "{b}号楼",
            "floor": "{f}层",
            "place_sep": " ",
            "unknown_place": "位置未知",
            "level_line": "{level}（{detail}）。",
            "reading": "{label}：{value}",
            "rising": "{window}内上涨{amount}",
            "falling": "{window}内下降{amount}",
            "trend_sep": "，",
            "limit": "（本级阈值：{limit}）",
            "anomaly": "，与近期读数相比异常",
            "sentence_end": "。",
            "todo": "应对措施：{advice}",
            "note": "备注：{note}",
            "sensor": "传感器：{sensor}",
            "someone": "工作人员",
            "time": "时间：{date} {hhmm}（UTC 世界时）{unsynced}",
            "date": "{year}年{month}月{day}日",
            "unsynced": "（节点时钟未同步，时间可能不准确）",
            "time_unknown": "时间：未知",
            "line_sep": "\n",
            "space": "",
        }
    ),
)
