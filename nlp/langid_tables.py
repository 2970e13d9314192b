"""Tables of :mod:`nlp.langid`: scripts and the languages that write them, letters and function
words per language, spellings a language never uses. Written from the orthographies, not fitted
to a data set; kept apart from the identifier so each file stays readable."""

from __future__ import annotations

import re

# --- scripts (step 3) ------------------------------------------------------------------------
_SCRIPT_CLASSES: dict[str, str] = {
    "Latn": "A-Za-z\u00c0-\u024f\u0250-\u02af\u0300-\u036f\u1e00-\u1eff\u2c60-\u2c7f\ua720-\ua7ff"
            "\uff21-\uff3a\uff41-\uff5a",
    "Grek": "\u0370-\u03ff\u1f00-\u1fff",
    "Cyrl": "\u0400-\u052f\u1c80-\u1c8f\u2de0-\u2dff\ua640-\ua69f",
    "Armn": "\u0530-\u058f\ufb13-\ufb17",
    "Hebr": "\u0590-\u05ff\ufb1d-\ufb4f",
    "Arab": "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufefe",
    "Thaa": "\u0780-\u07bf",
    "Deva": "\u0900-\u097f\ua8e0-\ua8ff",
    "Beng": "\u0980-\u09ff", "Guru": "\u0a00-\u0a7f", "Gujr": "\u0a80-\u0aff", "Orya": "\u0b00-\u0b7f",
    "Taml": "\u0b80-\u0bff", "Telu": "\u0c00-\u0c7f", "Knda": "\u0c80-\u0cff", "Mlym": "\u0d00-\u0d7f",
    "Sinh": "\u0d80-\u0dff", "Thai": "\u0e00-\u0e7f", "Laoo": "\u0e80-\u0eff", "Tibt": "\u0f00-\u0fff",
    "Mymr": "\u1000-\u109f", "Geor": "\u10a0-\u10ff\u1c90-\u1cbf\u2d00-\u2d2f",
    "Hang": "\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff",
    "Ethi": "\u1200-\u139f\u2d80-\u2ddf", "Khmr": "\u1780-\u17ff\u19e0-\u19ff", "Mong": "\u1800-\u18af",
    "Kana": "\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f",
    "Hani": "\u3005\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f",
    "Bopo": "\u3100-\u312f\u31a0-\u31bf",
}
_SCRIPT_RE = re.compile("|".join(f"(?P<{name}>[{cls}]+)" for name, cls in _SCRIPT_CLASSES.items()))
#: Scripts whose text fastText (and the evidence) must decide among several languages.
_UNDECIDED_SCRIPTS = frozenset(("Latn", "Cyrl", "Arab", "Hebr", "Deva", "Beng", "Geor", "Hani"))
_NOT_LATIN_RE = re.compile(r"[^A-Za-z\u00c0-\u024f\u1e00-\u1eff\s'’-]")
#: Information per character (step 2); other scripts count 1.
_INFO_WEIGHT = {"Hani": 3.0, "Hang": 2.0, "Kana": 2.0, "Bopo": 1.0}
#: The languages fastText may name for a text in each script (Latin: see ``_LATIN_TOO``).
_SCRIPT_LANGUAGES: dict[str, tuple[str, ...]] = {
    script: tuple(langs.split())
    for script, langs in {
        "Grek": "el", "Armn": "hy", "Hebr": "he yi", "Thaa": "dv", "Guru": "pa", "Gujr": "gu", "Orya": "or",
        "Taml": "ta", "Telu": "te", "Knda": "kn", "Mlym": "ml", "Sinh": "si", "Thai": "th", "Laoo": "lo",
        "Tibt": "bo", "Mymr": "my", "Ethi": "am", "Khmr": "km", "Mong": "mn", "Hang": "ko", "Kana": "ja",
        "Geor": "ka xmf", "Beng": "bn as bpy", "Deva": "hi mr ne sa bh new mai dty gom",
        "Arab": "ar arz fa ur ps ckb sd ug pnb azb mzn lrc ku",
        "Cyrl": "ru uk be bg mk sr sh kk ky tg tt ba cv sah os ce mhr mrj udm kv xal krc av lez bxr tyv myv "
                "rue mn uz az tk",
        "Hani": "zh ja yue wuu", "Bopo": "zh",
    }.items()
}
#: Languages of another script that are written in Latin letters too.
_LATIN_TOO = frozenset("sr sh uz az tk kk ku".split())
# Han only (step 3): characters Japanese does not write (simplified forms, traditional forms
# that Japanese simplified differently, Chinese particles), characters only Japanese writes
# (shinjitai and kokuji), and Cantonese characters.
_HAN_ZH = frozenset(
    "们说么吗呢吧没还过发现经关车买卖钱贩枪东门长时间问题开进动员电话记报网络诈骗个对为与从数条样听点岁区医药"
    "觉变铁战传转广实价应党号处检验县图读续济给让这谁啥咱俩啊呀哪"
    "們這說麼嗎沒還發經關賣錢對國學會來與從數條樣聽點歲區醫藥覺變鐵戰傳轉廣實體價應黨號處檢驗縣圖讀續濟給讓誰"
)
_HAN_JA = frozenset("駅県円図売読続経関発対済広払変鉄気労戦伝転歳薬覚検険験営総実剤辺込働畑峠枠塩拠様児楽沢浜桜渋栄隠焼帰歩々")
_HAN_YUE = frozenset("嘅咗唔喺冇佢哋嘢啲嚟乜咁嗰睇搵畀噉啱嘥")

# --- orthographic evidence (step 4) ----------------------------------------------------------
# Letters, and the languages that write them. A candidate outside a present letter's set is
# penalised. Sets are generous (regional languages included) because a wrong exclusion costs more
# than a missed one; letters shared by too many languages (ä, ö, ü, é, á, ...) are left out.
_LETTERS: dict[str, str] = {
    "ã": "pt vi gn mwl", "õ": "pt et vi mwl",
    "ñ": "es gl ast an eu tl qu gn ay br wa", "¿": "es gl ast an eu ca qu", "¡": "es gl ast an eu ca qu",
    "ß": "de als bar lb nds gsw", "œ": "fr", "ă": "ro vi", "ș": "ro", "ț": "ro", "ţ": "ro",
    "ş": "ro tr az ku tk tt crh", "ı": "tr az crh tk", "ğ": "tr az crh tk",
    "ł": "pl szl csb dsb hsb", "ř": "cs hsb", "ů": "cs", "ě": "cs hsb dsb", "ő": "hu", "ű": "hu",
    "å": "sv da no nn fi se", "ø": "da no nn fo", "æ": "da no nn fo is", "ð": "is fo", "þ": "is",
    "ç": "pt fr ca tr sq az ku oc mwl tk", "à": "fr it pt ca oc vi co lij nap scn vec mwl",
    "è": "fr it ca oc vi co lij nap scn vec eml", "ê": "fr pt vi ku af oc cy wa mwl",
    "ô": "fr pt vi sk af oc cy wa mwl", "â": "fr pt ro tr vi cy af oc wa mwl", "î": "fr ro ku af oc cy wa",
    "ù": "fr it vi oc co", "ì": "it vi co scn nap vec gd", "ò": "it ca oc vi co scn nap vec gd",
    "ë": "fr nl sq af lb br ku", "ï": "fr nl ca af cy oc", "ŀ": "ca",
    "ơ": "vi", "ư": "vi", "đ": "vi hr bs sh sr",
    # Cyrillic
    "і": "uk be kk rue", "ї": "uk rue", "є": "uk rue", "ґ": "uk rue be", "ў": "be uz",
    "ы": "ru be kk ky tt ba cv sah mn udm kv mhr", "э": "ru be kk ky tt ba sah mn mhr kv cv",
    "ё": "ru be kk ky tt ba sah mn", "ъ": "ru bg", "ј": "sr mk", "љ": "sr mk", "њ": "sr mk",
    "ћ": "sr", "ђ": "sr", "ѓ": "mk", "ќ": "mk", "ѕ": "mk",
    # Arabic script: Persian/Urdu letters versus Arabic yeh, kaf and ta marbuta; Urdu's own
    "پ": "fa ur ps ckb sd ug pnb azb mzn lrc ku", "چ": "fa ur ps ckb sd ug pnb azb mzn lrc ku",
    "ژ": "fa ur ps ckb ug pnb azb mzn lrc ku", "گ": "fa ur ps ckb sd ug pnb azb mzn lrc ku",
    "ک": "fa ur ps ckb sd pnb azb mzn lrc ku", "ی": "fa ur ps ckb pnb azb mzn lrc ku",
    "ي": "ar arz ps ug sd", "ك": "ar arz ug", "ة": "ar arz",
    "ے": "ur pnb", "ٹ": "ur pnb", "ڈ": "ur pnb", "ڑ": "ur pnb", "ں": "ur pnb",
    # Hebrew script: Yiddish ligatures
    "װ": "yi", "ױ": "yi", "ײ": "yi",
    # Devanagari: ळ is Marathi (and Konkani), not Hindi or Nepali
    "ळ": "mr gom sa",
}
# Frequent function words. A word listed for several languages counts for each with its weight
# divided among them; the most widespread ones ("a", "de", "que") are left out.
_WORDS: dict[str, str] = {
    "en": "i the and is are was were be been with your you my we they this that these those for of to have "
          "has had not it its at by from what just will would can could do does did don there their our "
          "me him her his she he but or if so about all get got how who why when an in on no nor hi sense "
          "am which also after before into than then them one two first over under during while where been being because between through against without within upon until",
    "fr": "le la les des du et est un une pour avec dans pas sur ce cette ces qui vous nous je il elle "
          "ils au aux ne se sont par plus son sa ses mais ou on tout été très leur moi toi non qu j ça "
          "vos ont quand si va était étaient avait avaient fut lors après avant depuis pendant sous chez dont où aussi alors comme leurs notre votre cet celui celle ceux lui entre",
    "es": "el la los las del y es está están son un una pero muy también con hay yo mi tu su sus ya esto "
          "esta este eso para lo le les nos qué cómo más por se en al me no ni sin sobre fue han ha he "
          "como todo cuando donde porque hoy ayer mañana ahora aquí siempre nunca nada algo gracias hola "
          "bueno estoy tengo tiene hace hasta desde entre ella ellos usted ustedes nosotros otro otra "
          "otros mucho muchos esa ese aquel unos era si va vos fueron sido había habían cuyo cuya cual cuales quien quienes según tras durante además después antes mientras aunque solo sólo nuestro nuestra dicho dicha estos estas esos esas allí así entre",
    "pt": "o os as do da dos das e é são um uma uns umas com não você vocês em no na nos nas ao aos às "
          "isso isto está estão muito também eu meu minha seu sua pelo pela pelos pelas ele ela eles elas "
          "já mais para por se me foi tem têm como quando onde porque sem sobre até hoje ontem amanhã "
          "agora aqui sempre nunca nada obrigado obrigada olá bom estou tenho faz pode desde entre esse "
          "essa então ainda depois mas ou há muita muitos outro outra outros todo algo sei vai vou nós "
          "vós dia havia dela era foram sido estava estavam cujo cuja qual quais quem apenas mesmo outras seus suas neste nesta nesse nessa deste desta desse dessa disso disto num numa pois além através lá tão durante entre após",
    "gl": "o os as do da dos das e é son un unha unhas con non en no na nos nas ao aos ás por para pero "
          "tamén máis este esta isto iso ese esa aquí agora hoxe onte mañá xa moi cando onde porque sen "
          "sobre ata dende desde el ela eles elas eu ti nós vós lle lles miña teu túa seu súa noso nosa "
          "polo pola polos polas co coa cos coas dun dunha nun nunha hai ten teñen fai fan vai van foi "
          "foron está están estou vou sei grazas ben outro outra outros moito moita moitos moitas nada "
          "alguén ninguén ningún ningunha algún algunha todo algo pode sempre bo boa nin era despois "
          "aínda durante entre",
    "ca": "el la els les del dels al als i és són està estan amb per però perquè què molt molta molts "
          "moltes també aquest aquesta aquests aquestes això allò avui ahir demà ara aquí on quan com "
          "fins sense sobre entre hi ha han havia ho jo tu ell ella ells elles nosaltres vosaltres meu "
          "meva teu teva seu seva nostre nostra va van vaig vam fer fa fan feu tot tota tots totes res "
          "cap gent gràcies bon bona dia nit doncs encara mai ja pel pels un una uns unes ni hola sempre "
          "cal dins era si puc pots podem quin quina quins quines algú ningú durante entre",
    "eu": "eta da ez bai ere baina edo hau hori hura hauek horiek hemen han hor non nor zer zein nola "
          "zergatik noiz dago daude dira zen ziren du dute dut duzu dugu zuen zuten izan egin egiten "
          "egingo dela gara naiz zara nago zaude gaur bihar atzo orain beti inoiz oso ondo asko gutxi "
          "beste bat bi hiru lau bost guztiak guztia gure zure bere nire haien behar nahi ahal ezin "
          "bezala gabe kaixo eskerrik esker agur mesedez zorionak berri berria herri euskal euskara ari",
    "oc": "lo los la las un una es èra son amb dins per pas mai mas quand ont aquò aquel aquela aquesta "
          "aqueste çò òc non nos vos lor sa seu sos tanben totjorn uèi ièr deman ara puèi fòrça ben bon "
          "bona fa fan cal cap res ges",
    "ast": "el la los les lu un una unos unes ye yera son nun nin pa pola pol col cola nel na tamién "
           "muncho muncha munchos agora equí dalgún dalguna dellos delles esti esta esto eso otru otra "
           "cuandu onde porque gracies",
    "it": "il lo la i gli le del della dei delle di e è che non per con una un sono nel nella alla al ai "
          "anche ma più ha hanno questo questa mi ti ci si da in su se ho era stato no so sua suo quando "
          "sempre nostra col va durante dopo prima tra anche dove come quale quali cui sul sulla degli dalla dal nei negli",
    "de": "der die das den dem des und ist nicht mit ein eine einen einem von zu auf für im in es sich "
          "sind wird wurde auch aber als bei nach noch wie so ich du er sie wir ihr hat haben kein was an "
          "um am beste ja war waren hatte hatten sein seine seiner seinen ihre ihren ihrem dass oder aus über vor zum zur vom beim einer eines wurden werden kann muss unter durch gegen ohne sowie jedoch dort seit bis nur schon immer wieder zwischen diese dieser dieses welche",
    "nl": "het een en van in is op niet met voor dat die zijn er te ook maar bij naar nog wordt werd door "
          "ik je jij hij zij we wij ze geen deze dit al om uit ja tot wie ons nu beste was werd werden hun zich dan wel heeft hebben worden waren zal kan moet toen na onder tussen tegen zonder sinds tijdens hoe waar wat omdat echter daar alleen haar hem mijn onze zoals veel meer",
    "af": "die het en van in is op nie met vir dat te ook maar by na nog ek jy hy sy ons hulle",
    "ro": "și în de la cu pe un o nu este sunt să se mai din pentru ce am ai ne fost mi da",
    "pl": "nie się na do jest to że w z i o po co jak ale tak już tylko mnie mi ja ty on ona my wy oni "
          "dla od przez przy był była było są",
    "ru": "и в на не что это как он она они мы вы я с по за из от для но так уже еще ещё был была было "
          "были будет есть нет все всё его ее её их сегодня очень спасибо тоже только когда где ни ли у со во",
    "uk": "і й та що це як він вона вони ми ви я з по за із від для але так вже ще був була було були "
          "буде є немає всі його її їх сьогодні дуже дякую теж тільки коли де все у",
    "bg": "и в на не че това как той тя те ние вие аз с по за от но така вече още беше са е ще какво днес "
          "много благодаря също само когато къде със във ли ви ни та ми",
    "sr": "и у на не да је се за од са што шта који која које али као био била они ми ви",
    "mk": "и во на не да е се за од со што кој која кое но како беше ние вие они ми ви",
    "ar": "في من على إلى عن أن هذا هذه التي الذي ما قد كان لا مع هو هي بعد به هم",
    "fa": "و در به از که این را با است آن برای یک تا هم شد می من کی",
    "ur": "کے کی ہے میں اور سے کو نے یہ وہ ہیں تھا کہ پر بھی",
    "hi": "है और में नहीं का की के को से ने यह वह हैं था पर भी हो या तो",
    "mr": "आहे आणि नाही या व ला चा ची चे मध्ये होते हे तो ती की",
    "ne": "छ र मा हो छैन गर्न लाई पनि भएको थियो यो त्यो को",
}
# Orthographic patterns (on the lowercased cleaned text; ``raw`` ones on the raw text) and the
# weight each match adds to a language; a pattern counts at most three times.
_PATTERNS: tuple[tuple[re.Pattern[str], dict[str, float], bool], ...] = tuple(
    (re.compile(rx), weights, raw)
    for rx, weights, raw in (
        (r"l·l|l\.l|ŀl", {"ca": 3.0}, True),
        (r"\w(?:ció|cions)\b", {"ca": 1.0}, False),
        (r"\w(?:cións|ións)\b", {"gl": 1.0}, False),
        (r"\w(?:cion|cions)\b", {"oc": 1.0}, False),
        (r"\bx[aeiouáéíóú]", {"gl": 0.7, "ast": 0.5}, False),
        (r"\wiñ[oa]s?\b", {"gl": 0.6}, False),
        (r"lh[aeiouáéíóúâêô]", {"pt": 0.5, "oc": 0.5}, False),
        (r"\wny[aeiouàèéíòóú]|\wnys\b", {"ca": 0.5}, False),
        (r"tx|tz", {"eu": 0.8}, False),
        (r"\w\w(?:aren|arekin|rekin|tzeko|tzen|tzea|etan|ean|eko|tik)\b", {"eu": 0.5}, False),
        (r"uè|ièu|iè\b|òc", {"oc": 0.8}, False),
        (r"\w[bcdfgklmnprstvz]u\b", {"ast": 0.4}, False),
    )
)
# Letter sequences, and the languages that never write them (native words): "ou" is not
# Spanish or Italian, "lh" not Galician or Spanish, "ll" not Portuguese, a word-final "m" not
# Galician or Spanish. They count like the letters above, weighed by the share of words.
_NEVER: dict[str, tuple[str, str]] = {
    "ou": ("ou", "es it"), "lh": ("lh", "gl es ca it ast"), "ll": ("ll", "pt"), "ny": ("ny", "es pt gl it"),
    "tx": ("tx", "es pt gl it fr"), "-m": (r"[^\W\d_]m\b", "gl es it"),
    # Portuguese writes -vel/-veis and -ção where Galician and Spanish write -ble and -ción
    # ("incrível"/"incrible", "operação"/"operación"); Italian -bile and -zione, Catalan -ció.
    "-ble": (r"\w\wbles?\b", "pt it"), "ción": (r"ción", "pt it ca"),
}
_NEVER_RES = {key: re.compile(rx) for key, (rx, _) in _NEVER.items()}
_NEVER_SETS = {key: frozenset(langs.split()) for key, (_, langs) in _NEVER.items()}
_LETTER_SETS: dict[str, frozenset[str]] = {c: frozenset(v.split()) for c, v in _LETTERS.items()}


def _never_writes(code: str, key: str) -> bool:
    """Whether ``code`` never writes the letter or sequence ``key`` of the tables above."""
    return code in _NEVER_SETS[key] if key in _NEVER_SETS else code not in _LETTER_SETS[key]
_WORD_LANGS: dict[str, tuple[str, ...]] = {}
for _lang, _words in _WORDS.items():
    for _word in set(_words.split()):
        _WORD_LANGS[_word] = (*_WORD_LANGS.get(_word, ()), _lang)
_WORD_SPLIT_RE = re.compile(r"[\s'’-]+")
