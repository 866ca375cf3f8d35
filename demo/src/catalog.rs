//! The demo's sample data: a Hangzhou food brand, its catalog, its dealers and the people who
//! work there. Plain tables, so that changing the story never means changing the code.

/// The upstream enterprise the demo loads.
pub const TENANT_NAME: &str = "杭州味道食品有限公司";
pub const TENANT_NAME_EN: &str = "Hangzhou Weidao Foods";
/// The demo tenant's admin, who signs in with this phone (`requestSignInCode`, `signIn`).
pub const ADMIN_NAME: &str = "沈慧";
/// A fixed number, so that the README can name it; no dealer or employee uses it.
pub const ADMIN_PHONE: &str = "13900000001";
/// Its WeChat service account (the app id is drawn from the seeded RNG).
pub const WECHAT_ACCOUNT_NAME: &str = "味道食品订货服务号";
pub const WECHAT_URL_BUTTON: (&str, &str) = ("新品推荐", "https://www.weidao-foods.cn/new");

/// A second, smaller tenant that bought the ordering app but never switched on interconnect:
/// the stage for the refusals that need an app that is not enabled.
pub const SECOND_TENANT_NAME: &str = "宁波海港干货有限公司";

/// One catalog entry: SKU, name, unit, price in yuan with fen.
pub struct Product {
    pub sku: &'static str,
    pub name: &'static str,
    pub unit: &'static str,
    pub price: &'static str,
}

const fn p(
    sku: &'static str,
    name: &'static str,
    unit: &'static str,
    price: &'static str,
) -> Product {
    Product {
        sku,
        name,
        unit,
        price,
    }
}

pub const PRODUCTS: [Product; 50] = [
    // 茶叶 (tea)
    p("WD-CY-001", "西湖龙井 明前特级 250g", "盒", "368.00"),
    p("WD-CY-002", "西湖龙井 雨前一级 250g", "盒", "198.00"),
    p("WD-CY-003", "径山茶 200g", "盒", "128.00"),
    p("WD-CY-004", "安吉白茶礼盒 150g", "盒", "258.00"),
    p("WD-CY-005", "桐乡杭白菊 50g×20袋", "箱", "86.50"),
    p("WD-CY-006", "九曲红梅红茶 100g", "罐", "99.00"),
    // 糕点 (pastries)
    p("WD-GD-001", "定胜糕 6枚装", "盒", "18.80"),
    p("WD-GD-002", "桂花糕 400g", "盒", "22.50"),
    p("WD-GD-003", "龙井茶酥 12枚", "盒", "36.00"),
    p("WD-GD-004", "葱包桧 速冻 10只", "袋", "25.90"),
    p("WD-GD-005", "西湖藕粉 500g", "袋", "32.80"),
    p("WD-GD-006", "桂花藕粉 独立小包 30g×20", "箱", "59.00"),
    p("WD-GD-007", "方糕 8枚", "盒", "19.90"),
    p("WD-GD-008", "绿豆糕 320g", "盒", "16.50"),
    // 调味品 (condiments)
    p("WD-TW-001", "绍兴花雕酒 五年陈 500ml×12", "箱", "156.00"),
    p("WD-TW-002", "特级酿造酱油 1.8L", "瓶", "26.80"),
    p("WD-TW-003", "陈酿香醋 500ml×12", "箱", "78.00"),
    p("WD-TW-004", "红烧酱汁 350g", "瓶", "12.90"),
    p("WD-TW-005", "东坡肉调料包 120g", "袋", "8.50"),
    p("WD-TW-006", "油焖笋调味酱 300g", "瓶", "15.80"),
    p("WD-TW-007", "香辣椒酱 220g×12", "箱", "96.00"),
    p("WD-TW-008", "红方腐乳 340g", "瓶", "9.90"),
    // 休闲零食 (snacks)
    p("WD-LS-001", "临安山核桃仁 200g", "袋", "58.00"),
    p("WD-LS-002", "手剥山核桃 500g", "袋", "69.90"),
    p("WD-LS-003", "天目山笋干 250g", "袋", "38.50"),
    p("WD-LS-004", "天目笋干礼盒 500g", "盒", "88.00"),
    p("WD-LS-005", "香酥小麻花 1kg", "箱", "29.80"),
    p("WD-LS-006", "五香豆腐干 20包", "袋", "16.90"),
    p("WD-LS-007", "杭州酱鸭 整只 600g", "只", "59.00"),
    p("WD-LS-008", "酱鸭舌 100g", "袋", "32.00"),
    p("WD-LS-009", "九制话梅 200g", "袋", "15.50"),
    p("WD-LS-010", "五香花生 500g", "袋", "13.80"),
    // 饮料 (drinks)
    p("WD-YL-001", "龙井茶饮 500ml×15", "箱", "52.50"),
    p("WD-YL-002", "仙居杨梅汁 300ml×12", "箱", "68.00"),
    p("WD-YL-003", "桂花酸梅汤 1L", "瓶", "12.80"),
    p("WD-YL-004", "千岛湖天然水 550ml×24", "箱", "36.00"),
    p("WD-YL-005", "菊花茶饮料 250ml×24", "箱", "48.00"),
    p("WD-YL-006", "原味豆奶 250ml×24", "箱", "45.60"),
    // 粮油 (grain and oil)
    p("WD-LY-001", "五常大米 10kg", "袋", "89.00"),
    p("WD-LY-002", "长糯米 5kg", "袋", "42.00"),
    p("WD-LY-003", "压榨菜籽油 5L", "桶", "79.90"),
    p("WD-LY-004", "常山山茶油 1L", "瓶", "168.00"),
    p("WD-LY-005", "手工挂面 1kg×10", "箱", "65.00"),
    p("WD-LY-006", "片儿川鲜面 500g×10", "箱", "58.00"),
    // 速冻 (frozen)
    p("WD-SD-001", "鲜肉小笼包 20只", "袋", "24.80"),
    p("WD-SD-002", "鲜虾馄饨 500g", "袋", "29.90"),
    p("WD-SD-003", "嘉兴鲜肉粽 5只", "袋", "27.50"),
    p("WD-SD-004", "黑芝麻汤圆 500g", "袋", "14.90"),
    // 礼盒 (gift boxes)
    p("WD-LH-001", "杭州伴手礼综合礼盒", "盒", "198.00"),
    p("WD-LH-002", "中秋月饼礼盒 8枚", "盒", "238.00"),
];

/// A dealer in the CRM customer object: name, mobile of the buyer, address.
pub struct Dealer {
    pub name: &'static str,
    pub phone: &'static str,
    pub address: &'static str,
}

const fn d(name: &'static str, phone: &'static str, address: &'static str) -> Dealer {
    Dealer {
        name,
        phone,
        address,
    }
}

/// Twenty customers; the first fifteen become partner enterprises.
pub const DEALERS: [Dealer; 20] = [
    d(
        "上海沪鑫食品贸易有限公司",
        "13816620451",
        "上海市闵行区漕宝路1688号",
    ),
    d(
        "苏州吴越副食品商行",
        "13962188302",
        "江苏省苏州市姑苏区人民路356号",
    ),
    d(
        "宁波甬港食品批发部",
        "13867811925",
        "浙江省宁波市海曙区药行街88号",
    ),
    d(
        "温州瓯江商贸有限公司",
        "13705772218",
        "浙江省温州市鹿城区人民中路120号",
    ),
    d(
        "绍兴越州副食品经营部",
        "15857537740",
        "浙江省绍兴市越城区解放北路210号",
    ),
    d(
        "嘉兴禾城食品配送中心",
        "18857326613",
        "浙江省嘉兴市南湖区中山东路566号",
    ),
    d(
        "湖州太湖供应链管理有限公司",
        "13587205539",
        "浙江省湖州市吴兴区红旗路77号",
    ),
    d(
        "金华婺城百货批发商行",
        "15988579024",
        "浙江省金华市婺城区八一北街300号",
    ),
    d(
        "南京金陵食品有限公司",
        "13951703386",
        "江苏省南京市秦淮区中华路432号",
    ),
    d(
        "无锡梁溪商贸有限公司",
        "13812099475",
        "江苏省无锡市梁溪区中山路199号",
    ),
    d(
        "台州临海副食品超市",
        "13758611092",
        "浙江省台州市临海市古城街道紫阳街45号",
    ),
    d(
        "义乌福田食品配送站",
        "13989433167",
        "浙江省义乌市福田街道城中北路12号",
    ),
    d(
        "合肥徽味食品贸易有限公司",
        "13955112870",
        "安徽省合肥市庐阳区长江中路98号",
    ),
    d(
        "杭州西溪便利连锁有限公司",
        "13588016654",
        "浙江省杭州市西湖区文二西路738号",
    ),
    d(
        "杭州滨江社区生鲜店",
        "18768129930",
        "浙江省杭州市滨江区江南大道3850号",
    ),
    d(
        "常州龙城食品经营部",
        "13915053318",
        "江苏省常州市天宁区延陵西路65号",
    ),
    d(
        "舟山海天副食品商行",
        "13906802247",
        "浙江省舟山市定海区解放西路150号",
    ),
    d(
        "衢州三衢商贸有限公司",
        "15105706681",
        "浙江省衢州市柯城区上街88号",
    ),
    d(
        "丽水瓯越土特产店",
        "13567621450",
        "浙江省丽水市莲都区中山街210号",
    ),
    d(
        "福州闽江食品批发有限公司",
        "13799410328",
        "福建省福州市鼓楼区八一七北路56号",
    ),
];

/// How many of the customers become partner enterprises.
pub const PARTNERS: usize = 15;
/// Partners (by index into `DEALERS`) that run in tenant mode: larger dealers whose staff use
/// the platform's app. The rest use the recommended tenantless mode.
pub const TENANT_MODE: [usize; 4] = [0, 8, 12, 13];
/// Partners that are not (yet) assigned the ordering app.
pub const WITHOUT_ORDERING: [usize; 2] = [10, 14];
/// The partner suspended at the end (it has ordered before).
pub const SUSPENDED: usize = 6;

/// People's names: their-side contacts first (see `load::staff_of`), then our-side employees.
pub const PEOPLE: [&str; 40] = [
    "王建国",
    "李秀英",
    "张伟",
    "刘洋",
    "陈静",
    "杨磊",
    "赵敏",
    "黄晓明",
    "周婷",
    "吴强",
    "徐丽",
    "孙浩",
    "胡军",
    "朱琳",
    "高峰",
    "林芳",
    "何勇",
    "郭静",
    "马超",
    "罗娜",
    "梁晨",
    "宋佳",
    "郑凯",
    "谢婷婷",
    "韩磊",
    "唐伟",
    "冯雪",
    "于洋",
    "董明",
    "萧红",
    "程刚",
    "曹颖",
    "袁帅",
    "邓丽",
    "许杰",
    "傅强",
    "沈悦",
    "曾志伟",
    "彭涛",
    "吕艳",
];
/// A dealer's CRM contact recorded without a mobile number (seed note 1).
pub const PHONELESS_PERSON: &str = "蒋文";
/// A CRM contact of a customer that never became a partner.
pub const OUTSIDER_PERSON: (&str, &str) = ("蔡磊", "19957300112");
/// Our-side contacts: employees of the tenant, each looking after two dealers.
pub const EMPLOYEES: usize = 8;

/// Mobile prefixes of the three Chinese carriers.
pub const MOBILE_PREFIXES: [&str; 16] = [
    "133", "135", "136", "137", "138", "139", "150", "151", "152", "158", "159", "177", "180",
    "186", "188", "189",
];

pub const ORDER_NOTES: [&str; 8] = [
    "请周五前送达",
    "送货前请电话联系",
    "发票抬头同上次",
    "春节备货，请优先安排",
    "仓库收货时间 8:00-17:00",
    "请走后门卸货",
    "中秋备货",
    "样品一起寄来",
];

pub const REJECT_REASONS: [&str; 4] = [
    "库存不足，下周补货后请重新下单",
    "超出信用额度，请先结清上月货款",
    "价格已调整，请按新价格重新下单",
    "收货地址不在配送范围",
];

pub const CONTACT_CANCEL_REASONS: [&str; 3] = ["下错单了", "数量填错，重新下单", "门店暂停营业"];

pub const ADMIN_CANCEL_REASONS: [&str; 3] = ["客户电话要求取消", "仓库盘点暂停发货", "重复订单"];

/// Carriers, with the prefix of their tracking numbers.
pub const CARRIERS: [(&str, &str); 5] = [
    ("顺丰速运", "SF"),
    ("中通快递", "ZT"),
    ("圆通速递", "YT"),
    ("德邦物流", "DPK"),
    ("京东物流", "JDV"),
];

/// Product categories, by the two letters after `WD-` in the SKU (the sections of `PRODUCTS`).
pub const CATEGORIES: [(&str, &str); 8] = [
    ("CY", "茶叶"),
    ("GD", "糕点"),
    ("TW", "调味品"),
    ("LS", "休闲零食"),
    ("YL", "饮料"),
    ("LY", "粮油"),
    ("SD", "速冻"),
    ("LH", "礼盒"),
];

/// The category of a product of `PRODUCTS`.
pub fn category_of(sku: &str) -> Option<&'static str> {
    let section = sku.strip_prefix("WD-")?.get(..2)?;
    CATEGORIES
        .iter()
        .find(|(code, _)| *code == section)
        .map(|(_, category)| *category)
}

/// How much of a product one line may order (each optional).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rules {
    pub min: Option<u32>,
    /// The case size: lines order whole cases.
    pub multiple: Option<u32>,
    pub max: Option<u32>,
}

impl Rules {
    pub fn allows(self, quantity: u32) -> bool {
        self.min.is_none_or(|min| quantity >= min)
            && self
                .multiple
                .is_none_or(|step| quantity.is_multiple_of(step))
            && self.max.is_none_or(|max| quantity <= max)
    }

    /// The allowed quantity nearest above `wanted` (below it when that passes the maximum), as a
    /// buyer who knows the rules would order. The rules are ones the product accepted, so some
    /// allowed quantity exists.
    pub fn nearest_allowed(self, wanted: u32) -> u32 {
        let step = self.multiple.unwrap_or(1);
        let up = wanted.max(self.min.unwrap_or(1)).div_ceil(step) * step;
        match self.max {
            Some(max) if up > max => max / step * step,
            _ => up,
        }
    }

    /// "≥5", "×6", "≤20", together "≥24 ×12 ≤240".
    pub fn describe(self) -> String {
        let parts = [
            self.min.map(|n| format!("≥{n}")),
            self.multiple.map(|n| format!("×{n}")),
            self.max.map(|n| format!("≤{n}")),
        ];
        parts.into_iter().flatten().collect::<Vec<_>>().join(" ")
    }
}

const fn rules(min: Option<u32>, multiple: Option<u32>, max: Option<u32>) -> Rules {
    Rules { min, multiple, max }
}

/// Quantity rules of a few products, by SKU.
pub const QUANTITY_RULES: [(&str, Rules); 5] = [
    // Soy sauce and sour plum drink ship in cases of 6 and 12 bottles.
    ("WD-TW-002", rules(None, Some(6), None)),
    ("WD-YL-003", rules(None, Some(12), None)),
    // Rice goes out by the pallet layer: at least 5 bags.
    ("WD-LY-001", rules(Some(5), None, None)),
    // The pre-Qingming tea is allocated: at most 20 boxes an order.
    ("WD-CY-001", rules(None, None, Some(20))),
    // Braising sauce: whole cases of 12, at least two, at most twenty.
    ("WD-TW-004", rules(Some(24), Some(12), Some(240))),
];

/// Dealer levels, by partner (index into `DEALERS`): provincial agents, A and B dealers. The
/// partners not named have no level.
pub const LEVEL_A: &str = "A";
pub const LEVELS: [(usize, &str); 13] = [
    (0, "省级代理"),
    (8, "省级代理"),
    (12, "省级代理"),
    (1, LEVEL_A),
    (2, LEVEL_A),
    (3, LEVEL_A),
    (5, LEVEL_A),
    (9, LEVEL_A),
    (13, LEVEL_A),
    (4, "B"),
    (6, "B"),
    (7, "B"),
    (11, "B"),
];

/// Partners that may buy only some categories: the convenience chain sells snacks, pastries,
/// drinks and frozen food; the Yiwu distribution point serves restaurants.
pub const ASSORTMENTS: [(usize, &[&str]); 2] = [
    (13, &["糕点", "休闲零食", "饮料", "速冻"]),
    (11, &["调味品", "粮油", "速冻"]),
];

/// Whom a price list prices for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    Level(&'static str),
    /// One partner, by index into `DEALERS`.
    Partner(usize),
}

/// A price list the admin sets up. Prices are a percentage of the catalog price, per SKU and
/// break (the least quantity the price applies from).
pub struct PriceListPlan {
    pub name: &'static str,
    pub priority: i64,
    pub scope: Scope,
    /// Valid from a week ago for three weeks from now; otherwise always.
    pub limited: bool,
    /// Given at creation; otherwise set once every price is in (a list without a scope prices
    /// for nobody, so a contract can be prepared before it takes effect).
    pub scoped_at_creation: bool,
    /// Archived at once: it never prices again, whatever its priority.
    pub archived: bool,
    pub prices: &'static [(&'static str, u32, i64)],
}

/// The partner with contract prices (index into `DEALERS`).
pub const CONTRACT_PARTNER: usize = 0;

pub const PRICE_LISTS: [PriceListPlan; 4] = [
    PriceListPlan {
        name: "金秋促销 9折",
        priority: 10,
        scope: Scope::All,
        limited: true,
        scoped_at_creation: true,
        archived: false,
        prices: &[
            ("WD-CY-002", 1, 90),
            ("WD-GD-001", 1, 90),
            ("WD-GD-002", 1, 90),
            ("WD-GD-003", 1, 90),
            ("WD-GD-005", 1, 90),
            ("WD-LS-001", 1, 90),
            ("WD-LS-002", 1, 90),
            ("WD-YL-002", 1, 90),
            ("WD-SD-003", 1, 90),
            ("WD-LH-001", 1, 90),
        ],
    },
    PriceListPlan {
        name: "A级经销商价",
        priority: 50,
        scope: Scope::Level(LEVEL_A),
        limited: false,
        scoped_at_creation: true,
        archived: false,
        prices: &[
            ("WD-GD-001", 1, 95),
            ("WD-GD-001", 10, 92),
            ("WD-GD-001", 50, 88),
            ("WD-GD-005", 1, 95),
            ("WD-GD-005", 10, 92),
            ("WD-GD-005", 50, 88),
            ("WD-TW-002", 1, 95),
            ("WD-TW-002", 10, 92),
            ("WD-TW-002", 50, 88),
            ("WD-TW-003", 1, 95),
            ("WD-TW-003", 10, 92),
            ("WD-TW-003", 50, 88),
            ("WD-LS-001", 1, 95),
            ("WD-LS-001", 10, 92),
            ("WD-LS-001", 50, 88),
            ("WD-LS-006", 1, 95),
            ("WD-LS-006", 10, 92),
            ("WD-LS-006", 50, 88),
            ("WD-YL-001", 1, 95),
            ("WD-YL-001", 10, 92),
            ("WD-YL-001", 50, 88),
            ("WD-YL-004", 1, 95),
            ("WD-YL-004", 10, 92),
            ("WD-YL-004", 50, 88),
            ("WD-LY-003", 1, 95),
            ("WD-LY-003", 10, 92),
            ("WD-LY-003", 50, 88),
            ("WD-SD-001", 1, 95),
            ("WD-SD-001", 10, 92),
            ("WD-SD-001", 50, 88),
        ],
    },
    PriceListPlan {
        name: "上海沪鑫 年度合同价",
        priority: 100,
        scope: Scope::Partner(CONTRACT_PARTNER),
        limited: false,
        scoped_at_creation: false,
        archived: false,
        prices: &[
            ("WD-CY-001", 1, 85),
            ("WD-CY-002", 1, 85),
            ("WD-CY-004", 1, 85),
            ("WD-TW-001", 1, 85),
            ("WD-LS-002", 1, 85),
            ("WD-LS-004", 1, 85),
            ("WD-YL-002", 1, 85),
            ("WD-LY-001", 1, 85),
            ("WD-LY-001", 20, 80),
            ("WD-LY-004", 1, 85),
            ("WD-LH-001", 1, 85),
        ],
    },
    PriceListPlan {
        name: "去年中秋促销（已结束）",
        priority: 200,
        scope: Scope::All,
        limited: false,
        scoped_at_creation: true,
        archived: true,
        prices: &[("WD-GD-001", 1, 70), ("WD-LH-002", 1, 70)],
    },
];

/// A dealer's quick order, pasted from its spreadsheet: tabs, commas and spaces, as people paste.
/// Priced by the A-level list's largest and middle breaks, the promotion and the catalog.
pub const QUICK_ORDER_PARTNER: usize = 1;
pub const QUICK_ORDER_TEXT: &str = "WD-GD-001\t60\nWD-TW-002, 12\nWD-GD-002 10\n\nWD-LS-009 24\n";

/// What the contract partner's employee puts in for it, by phone: contract prices and the
/// promotion and catalog beside them.
pub const ON_BEHALF_LINES: [(&str, u32); 3] =
    [("WD-LY-001", 20), ("WD-CY-001", 10), ("WD-GD-003", 6)];

/// A dealer's cart while the admin raises the catalog price of its first product (in no price
/// list) to `RAISED_PRICE`: the dealer's submission with the quoted total is `PRICE_CHANGED`.
pub const PRICE_CHANGE_CART: [(&str, u32); 2] = [("WD-TW-007", 5), ("WD-GD-001", 10)];
pub const RAISED_PRICE: &str = "99.00";
