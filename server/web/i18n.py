"""Czech and English for people: which language a request gets, and the words of the pages.

The language is, in order: `?lang=cs|en` (which the page's switch sets, and which is then kept
in a cookie), the `lang` cookie, the Accept-Language header, and English.
"""

from flask import Response, request

LANGUAGES = ("cs", "en")
COOKIE = "lang"

# The words of the pages, by key; every key has both languages (a test checks).
WORDS: dict[str, dict[str, str]] = {
    "site_title": {"cs": "Mezinárodní partnerství Libereckého kraje", "en": "International partnerships of the Liberec Region"},
    "home": {"cs": "Úvod", "en": "Home"},
    "ontology": {"cs": "Ontologie", "en": "Ontology"},
    "sparql": {"cs": "SPARQL", "en": "SPARQL"},
    "dumps": {"cs": "Ke stažení", "en": "Downloads"},
    "catalogue": {"cs": "Katalog", "en": "Catalogue"},
    "dataset": {"cs": "Datová sada", "en": "Dataset"},
    "switch_language": {"cs": "English", "en": "Česky"},
    "type": {"cs": "Typ", "en": "Type"},
    "property": {"cs": "Vlastnost", "en": "Property"},
    "value": {"cs": "Hodnota", "en": "Value"},
    "linked_from": {"cs": "Odkazují sem", "en": "Linked from"},
    "formats": {"cs": "Strojově čitelné formáty", "en": "Machine-readable formats"},
    "open_in_sparql": {"cs": "Otevřít v SPARQL", "en": "Open in SPARQL"},
    "unknown_date": {"cs": "datum neuvedeno", "en": "date not given"},
    "not_found_title": {"cs": "Nenalezeno", "en": "Not found"},
    "not_found_text": {"cs": "Tento zdroj v datové sadě není.", "en": "This resource is not in the dataset."},
    "not_acceptable_title": {"cs": "Nepodporovaný formát", "en": "Format not offered"},
    "publisher_line": {
        "cs": "Vydává Liberecký kraj. Data převzatá ze stránky kraje „Uzavřená dohoda“, licence CC BY 4.0.",
        "en": "Published by the Liberec Region. Data taken from the Region's page “Uzavřená dohoda”, licensed CC BY 4.0.",
    },
    "about": {
        "cs": "Partnerství Libereckého kraje se zahraničními regiony jako propojená otevřená data: dohody a jejich "
              "signatáři, události ve vývoji každé spolupráce, stav v čase, oblasti spolupráce a dokumenty.",
        "en": "The Liberec Region's partnerships with regions abroad as linked open data: agreements and their "
              "signatories, the events in the life of each cooperation, status over time, cooperation areas "
              "and documents.",
    },
    "partnerships": {"cs": "Partnerství", "en": "Partnerships"},
    "partnership": {"cs": "partnerství", "en": "partnership"},
    "partner": {"cs": "Partner", "en": "Partner"},
    "country": {"cs": "Stát", "en": "Country"},
    "agreement": {"cs": "Dohoda", "en": "Agreement"},
    "signed": {"cs": "Podepsáno", "en": "Signed"},
    "status_today": {"cs": "Stav dnes", "en": "Status today"},
    "since": {"cs": "od", "en": "since"},
    "timeline": {"cs": "Časová osa", "en": "Timeline"},
    "timeline_caption": {
        "cs": "Dohody a události 2001 až dnes, barevně podle stavu partnerství. Šrafovaný úsek: změna stavu v datu, "
              "které zdroj neuvádí.",
        "en": "Agreements and events from 2001 to today, coloured by the partnership's status. Hatched: the status "
              "changed on a date the source does not give.",
    },
    "timeline_this_page": {
        "cs": "Zakreslena jsou jen partnerství z této stránky seznamu.",
        "en": "Only the partnerships on this page of the list are drawn.",
    },
    "pages_of_list": {"cs": "Stránky seznamu partnerství", "en": "Pages of the list of partnerships"},
    "page_of": {"cs": "Stránka {page} z {count}", "en": "Page {page} of {count}"},
    "rows_of": {"cs": "partnerství {first}–{last} z {total}", "en": "partnerships {first}–{last} of {total}"},
    "previous_page": {"cs": "Předchozí stránka", "en": "Previous page"},
    "next_page": {"cs": "Další stránka", "en": "Next page"},
    "page_malformed": {
        "cs": "Parametr „page“ musí být číslo stránky: celé číslo od 1 do {last}.",
        "en": "The parameter “page” must be a page number: a whole number from 1 to {last}.",
    },
    "page_beyond_last": {
        "cs": "Seznam partnerství nemá stránku {page}: jeho stránky jsou číslovány 1 až {last}.",
        "en": "The list of partnerships has no page {page}: its pages are numbered 1 to {last}.",
    },
    "legend_signing": {"cs": "podpis dohody", "en": "signing"},
    "legend_event": {"cs": "událost", "en": "event"},
    "legend_not_held": {"cs": "setkání, které se nekonalo", "en": "meeting that did not take place"},
    "links": {"cs": "Pro stroje a vývojáře", "en": "For machines and developers"},
    "sparql_intro": {
        "cs": "Dotazujte se na data jazykem SPARQL 1.1. Koncový bod pro programy (jen pro čtení):",
        "en": "Query the data in SPARQL 1.1. The endpoint for programs (read-only):",
    },
    "examples": {"cs": "Příklady dotazů", "en": "Example queries"},
    "void": {"cs": "Popis datové sady (VoID)", "en": "Dataset description (VoID)"},
    "local_catalogue": {"cs": "Lokální katalog otevřených dat (DCAT-AP-CZ)", "en": "Local open data catalogue (DCAT-AP-CZ)"},
    "dataset_record": {"cs": "Katalogizační záznam datové sady", "en": "The dataset's catalogue record"},
    "classes": {"cs": "Třídy", "en": "Classes"},
    "properties": {"cs": "Vlastnosti", "en": "Properties"},
    "datatypes": {"cs": "Datové typy", "en": "Datatypes"},
    "domain": {"cs": "Definiční obor", "en": "Domain"},
    "range": {"cs": "Obor hodnot", "en": "Range"},
    "subclass_of": {"cs": "Podtřída", "en": "Subclass of"},
    "subproperty_of": {"cs": "Podvlastnost", "en": "Subproperty of"},
    "version": {"cs": "Verze", "en": "Version"},
    "licence": {"cs": "Licence", "en": "Licence"},
    "vocabularies": {"cs": "Řízené slovníky", "en": "Controlled vocabularies"},
    "file": {"cs": "Soubor", "en": "File"},
    "size": {"cs": "Velikost", "en": "Size"},
    "bytes": {"cs": "bajtů", "en": "bytes"},
    "changelog": {"cs": "Přehled změn", "en": "Changelog"},
    "changelog_intro": {
        "cs": "Co se v datech změnilo s každým vydáním oproti předchozímu: přidané a odebrané trojice po "
              "pojmenovaných grafech a zdroje, jejichž popis se změnil. Nejnovější vydání je první.",
        "en": "What each release changed in the data from the one before: the triples added and removed, by "
              "named graph, and the resources whose description changed. The newest release is first.",
    },
    "no_changelog": {"cs": "Toto vydání přehled změn nevede.", "en": "This release keeps no changelog."},
    "release": {"cs": "Vydání", "en": "Release"},
    "built_at": {"cs": "Sestaveno", "en": "Built"},
    "data_modified": {"cs": "Data naposledy změněna", "en": "Data last changed"},
    "previous_release": {"cs": "Předchozí vydání", "en": "Previous release"},
    "named_graph": {"cs": "Pojmenovaný graf", "en": "Named graph"},
    "triples_added": {"cs": "Přidané trojice", "en": "Triples added"},
    "triples_removed": {"cs": "Odebrané trojice", "en": "Triples removed"},
    "total": {"cs": "Celkem", "en": "Total"},
    "changed_resources": {"cs": "Změněné zdroje", "en": "Resources changed"},
    "no_longer_in_data": {"cs": "v datech už není", "en": "no longer in the data"},
    "more_resources": {"cs": "Další změněné zdroje", "en": "More resources changed"},
    "patch": {"cs": "Změny ke stažení (N-Quads)", "en": "The changes to download (N-Quads)"},
    "patch_added": {"cs": "přidané", "en": "added"},
    "patch_removed": {"cs": "odebrané", "en": "removed"},
    # Accessibility: the skip link, the SPARQL page's plain form and the wide tables' boxes.
    "skip_to_content": {"cs": "Přeskočit na obsah", "en": "Skip to content"},
    "sparql_query": {"cs": "Dotaz SPARQL", "en": "SPARQL query"},
    "run_query": {"cs": "Spustit dotaz", "en": "Run the query"},
    "sparql_endpoint": {"cs": "Koncový bod SPARQL", "en": "SPARQL endpoint"},
    "rows_per_page": {"cs": "Řádků na stránku", "en": "Rows a page"},
    "answer_format": {"cs": "Formát odpovědi", "en": "Format of the answer"},
    "shown_in_browser": {"cs": "zobrazí prohlížeč", "en": "shown by the browser"},
    "editor_needs_js": {
        "cs": "Editor dotazů potřebuje JavaScript. Bez něj dotaz napište do pole níže a odešlete; odpověď v JSON "
              "prohlížeč zobrazí, ostatní formáty stáhne.",
        "en": "The query editor needs JavaScript. Without it, write your query in the box below and send it; the "
              "browser shows an answer in JSON and downloads the other formats.",
    },
    # Search (web/search.py, templates/search.html, the box in base.html)
    "search": {"cs": "Hledat", "en": "Search"},
    "search_label": {"cs": "Hledat osoby, místa, události a další", "en": "Search people, places, events and more"},
    "search_again": {"cs": "Hledat znovu", "en": "Search again"},
    "search_hint": {
        "cs": "Napište jméno nebo název, třeba osoby, regionu, místa, události, dohody nebo oblasti spolupráce, česky "
              "nebo anglicky. Na velikosti písmen a diakritice nezáleží, české tvary jako „Harputem“ se najdou také.",
        "en": "Type a name: of a person, region, place, event, agreement or cooperation area, in Czech or English. "
              "Case and diacritics do not matter (“jested” finds Ještěd), and Czech forms such as “Harputem” are "
              "found too.",
    },
    "search_found": {"cs": "Nalezeno: {total} pro „{query}“.", "en": "{total} found for “{query}”."},
    "search_first_of": {
        "cs": "Prvních {shown} z {total} nalezených pro „{query}“; upřesněte hledání.",
        "en": "The first {shown} of {total} found for “{query}”; narrow the search to see others.",
    },
    "search_nothing": {"cs": "Pro „{query}“ nebylo nic nalezeno.", "en": "Nothing found for “{query}”."},
    "search_too_long": {
        "cs": "Hledaný text je příliš dlouhý ({length} znaků): nejvýše {limit} znaků.",
        "en": "The search text is too long ({length} characters): at most {limit} characters.",
    },
    "search_matched": {"cs": "shoda", "en": "matched"},
    "search_short_name": {"cs": "Partnerství LK", "en": "LR partnerships"},
    "search_description": {
        "cs": "Hledání v mezinárodních partnerstvích Libereckého kraje: osoby, regiony, místa, události, dohody.",
        "en": "Search the international partnerships of the Liberec Region: people, regions, places, events, "
              "agreements.",
    },
    # A partnership's story (web/story.py, templates/_story.html)
    "story_title": {"cs": "Příběh partnerství", "en": "The partnership's story"},
    "story_of_agreement": {"cs": "Dohoda zakládá partnerství:", "en": "The agreement establishes the partnership:"},
    "story_home": {"cs": "Domovský kraj", "en": "Home region"},
    "story_precursor": {"cs": "Vzešlo z", "en": "Grew out of"},
    "story_agreements": {"cs": "Dohody", "en": "Agreements"},
    "story_this_agreement": {"cs": "tato dohoda", "en": "this agreement"},
    "story_kind": {"cs": "Druh", "en": "Kind"},
    "story_agreement_title": {"cs": "Název", "en": "Title"},
    "story_parties": {"cs": "Smluvní strany", "en": "Parties"},
    "story_documents": {"cs": "Dokumenty", "en": "Documents"},
    "story_chronology": {"cs": "Chronologie", "en": "Chronology"},
    "story_status_change": {"cs": "Změna stavu partnerství", "en": "Change of the partnership's status"},
    "story_not_held": {"cs": "Nekonalo se.", "en": "Did not take place."},
    "story_participants": {"cs": "Účastníci", "en": "Who took part"},
    "story_name_not_given": {"cs": "jméno neuvedeno", "en": "name not given"},
    "story_no_events": {"cs": "Data neuvádějí žádnou událost.", "en": "The data gives no event."},
    "story_status_periods": {"cs": "Stav v čase", "en": "Status over time"},
    "story_caused_by": {"cs": "Příčina", "en": "Caused by"},
    "story_reason": {"cs": "Důvod", "en": "Reason"},
    # (the labels of times are in the nominative: "po: duben 2005", not "po duben 2005")
    "story_since": {"cs": "od:", "en": "since"},
    "story_after": {"cs": "po: {when}", "en": "after {when}"},
    "story_before": {"cs": "před: {when}", "en": "before {when}"},
    "story_all_statements": {"cs": "Všechny údaje", "en": "All statements"},
    "yes": {"cs": "ano", "en": "yes"},
    "no": {"cs": "ne", "en": "no"},
    # --- review, publish, rollback (/edit/changes, web/edit_review.py) ---
    "edit_review_link": {"cs": "Změny ke zveřejnění", "en": "Changes to publish"},
    "edit_changes_title": {"cs": "Změny od zveřejněného vydání", "en": "Changes since the served release"},
    "edit_changes_intro": {
        "cs": "Co datové soubory říkají teď a zveřejněné vydání {version} ne. Nic z toho není veřejné, dokud změny "
              "nezveřejníte.",
        "en": "What the data files say now that the served release {version} does not. None of it is public until "
              "you publish it.",
    },
    "edit_validates": {"cs": "Data jsou v pořádku: tvary SHACL nehlásí žádné porušení.",
                       "en": "The data validate: the SHACL shapes report no violation."},
    "edit_does_not_validate": {"cs": "Data nejsou v pořádku; takto je zveřejnit nelze",
                               "en": "The data do not validate; they cannot be published like this"},
    "edit_nothing_to_publish_text": {"cs": "Není co zveřejnit: datové soubory říkají totéž co zveřejněné vydání.",
                                     "en": "Nothing to publish: the data files say what the served release says."},
    "edit_changes_in_words": {"cs": "Změny slovy", "en": "The changes in words"},
    "edit_changes_in_triples": {"cs": "Změny v trojicích", "en": "The changes in triples"},
    "edit_triples_counts": {"cs": "Přidané trojice: {added}, odebrané trojice: {removed}.",
                            "en": "{added} triples added, {removed} removed."},
    "edit_resource_added": {"cs": "přidáno", "en": "added"},
    "edit_resource_removed": {"cs": "odebráno", "en": "removed"},
    "edit_resource_changed": {"cs": "změněno", "en": "changed"},
    "edit_recorded_changes": {"cs": "Zaznamenané úpravy", "en": "Recorded changes"},
    "edit_no_recorded_changes": {"cs": "Od sestavení zveřejněného vydání nebyla zaznamenána žádná úprava.",
                                 "en": "No change has been recorded since the served release was built."},
    "edit_when": {"cs": "Kdy", "en": "When"},
    "edit_author": {"cs": "Autor", "en": "Author"},
    "edit_message": {"cs": "Popis", "en": "Message"},
    "edit_files": {"cs": "Soubory", "en": "Files"},
    "edit_reference": {"cs": "Rozdíl (commit nebo revize)", "en": "Diff (commit or revisions)"},
    "edit_publish": {"cs": "Zveřejnit nové vydání", "en": "Publish a new release"},
    "edit_rollback_link": {"cs": "Vrátit se k předchozímu vydání {version}…",
                           "en": "Go back to the release before, {version}…"},
    "edit_rollback_title": {"cs": "Vrátit se k předchozímu vydání", "en": "Go back to the release before"},
    "edit_rollback_question": {"cs": "Zveřejnit znovu vydání {previous} místo vydání {served}?",
                               "en": "Serve release {previous} again instead of release {served}?"},
    "edit_rollback_confirm": {"cs": "Ano, zveřejnit vydání {version}", "en": "Yes, serve release {version}"},
    "edit_rollback_files_stay": {
        "cs": "Datové soubory se nemění: uložené úpravy zůstávají uložené a přehled změn je ukáže jako změny "
              "ke zveřejnění. Úpravu vrátíte tak, že partnerství upravíte zpět; co úprava změnila, ukazuje její "
              "rozdíl (commit v gitu, např. git show, nebo revize souboru v záznamu změn).",
        "en": "The data files do not change: saved changes stay saved, and the review shows them as changes to "
              "publish. To undo a saved change, edit the partnership back; what it changed is its diff (a git "
              "commit, e.g. git show, or the file's revisions in the changes log).",
    },
    "edit_no_older_release": {"cs": "Starší vydání, k němuž by se šlo vrátit, není.",
                              "en": "There is no older release to go back to."},
    "edit_published_title": {"cs": "Zveřejněno", "en": "Published"},
    "edit_published_text": {"cs": "Vydání {version} je sestaveno a zveřejněno.",
                            "en": "Release {version} is built and served."},
    "edit_changelog_entry": {"cs": "Vydání {version} v přehledu změn", "en": "Release {version} in the changelog"},
    "edit_rolled_back_title": {"cs": "Vráceno", "en": "Rolled back"},
    "edit_rolled_back_text": {"cs": "Zveřejněno je znovu vydání {version} (místo vydání {served_before}).",
                              "en": "Release {version} is served again (instead of release {served_before})."},
    "edit_publish_invalid_title": {"cs": "Nezveřejněno: data nejsou v pořádku",
                                   "en": "Not published: the data do not validate"},
    "edit_publish_invalid_text": {"cs": "Nic nebylo zveřejněno. Opravte tato porušení tvarů a zkuste to znovu.",
                                  "en": "Nothing was published. Fix these violations of the shapes and try again."},
    "edit_nothing_to_publish_title": {"cs": "Není co zveřejnit", "en": "Nothing to publish"},
    "edit_publish_busy_title": {"cs": "Právě probíhá jiné zveřejnění", "en": "Another publish is running"},
    "edit_publish_busy_text": {"cs": "Někdo právě zveřejňuje nebo vrací vydání. Podívejte se za chvíli na přehled "
                                     "změn.",
                               "en": "Someone is publishing or rolling back a release just now. Look at the review "
                                     "again in a moment."},
    "edit_switch_refused_title": {"cs": "Vydání nelze zveřejnit", "en": "The release cannot be served"},
    "edit_switch_refused_text": {"cs": "Nic se nezměnilo. Správce serveru najde podrobnosti níže a v záznamu serveru.",
                                 "en": "Nothing changed. The server's operator finds the details below and in its "
                                       "log."},
    "edit_publish_remote_title": {"cs": "Zveřejnění z prohlížeče zde není možné",
                                  "en": "Publishing from the browser is not possible here"},
    "edit_publish_remote_text": {"cs": "Tento server čte vydání ze vzdáleného úložiště SPARQL; vydání do něj "
                                       "vkládá správce příkazem lodpub publish.",
                                 "en": "This server reads its release from a remote SPARQL store; the operator puts "
                                       "releases there with lodpub publish."},
    # --- the editor (/edit/, web/edit.py) ---
    "edit_title": {"cs": "Úpravy dat", "en": "Editing the data"},
    "edit_unavailable_title": {"cs": "Úpravy nejsou dostupné", "en": "Editing is unavailable"},
    "edit_unavailable_text": {
        "cs": "Seznam editorů teď nelze přečíst nebo zapsat. Správce serveru najde příčinu v záznamu serveru.",
        "en": "The list of editors cannot be read or written just now. The server's operator finds why in its log.",
    },
    "edit_sign_in": {"cs": "Přihlásit se", "en": "Sign in"},
    "edit_sign_out": {"cs": "Odhlásit se", "en": "Sign out"},
    "edit_name": {"cs": "Jméno", "en": "Name"},
    "edit_password": {"cs": "Heslo", "en": "Password"},
    "edit_sign_in_failed": {"cs": "Jméno nebo heslo nesouhlasí (nebo bylo pokusů příliš mnoho; zkuste to za minutu).",
                            "en": "The name or password is wrong (or there were too many attempts; try again in a "
                                  "minute)."},
    "edit_signed_in_as": {"cs": "Přihlášen(a):", "en": "Signed in as"},
    "edit_partnerships": {"cs": "Partnerství", "en": "Partnerships"},
    "edit_no_partnerships": {"cs": "Vydání neobsahuje žádné partnerství.", "en": "The release holds no partnership."},
    "edit_partner": {"cs": "Partner", "en": "Partner"},
    "edit_public_page": {"cs": "Zveřejněná stránka", "en": "Published page"},
    "edit_back": {"cs": "Zpět na seznam", "en": "Back to the list"},
    # --- the editor's forms (web/edit_forms.py, templates edit_form.html and edit_partnership.html) ---
    "edit_form_edit": {"cs": "Upravit", "en": "Edit"},
    "edit_form_new_event": {"cs": "Nová událost", "en": "New event"},
    "edit_form_new_status": {"cs": "Nový stav", "en": "New status"},
    "edit_form_new_partnership": {"cs": "Nové partnerství", "en": "New partnership"},
    "edit_form_new_agreement": {"cs": "Nová dohoda s jejím podpisem", "en": "New agreement, with its signing"},
    "edit_form_new_person": {"cs": "Nová osoba", "en": "New person"},
    "edit_form_new_post": {"cs": "Nová funkce", "en": "New office"},
    "edit_form_new_participation": {"cs": "Nová účast osoby na události", "en": "New participation in an event"},
    "edit_form_new_document": {"cs": "Nový dokument", "en": "New document"},
    "edit_form_new_place": {"cs": "Nové místo", "en": "New place"},
    "edit_form_new_partner": {"cs": "Nový partner", "en": "The new partner"},
    "edit_form_kind_partnership": {"cs": "Partnerství", "en": "The partnership"},
    "edit_form_first_status": {"cs": "První stav", "en": "The first status"},
    "edit_form_agreement": {"cs": "Dohoda", "en": "The agreement"},
    "edit_form_signing": {"cs": "Podpis dohody", "en": "The signing of the agreement"},
    "edit_form_part_signing": {
        "cs": "Partnerství začalo podpisem dohody (zapsat dohodu a její podpis; stav „podepsáno“ jím pak začíná)",
        "en": "The partnership began with the signing of an agreement (record the agreement and its signing; "
              "the status “signed” then begins with it)"},
    "edit_form_kind_partner": {"cs": "Partner", "en": "Partner"},
    "edit_form_kind_agreement": {"cs": "Dohody", "en": "Agreements"},
    "edit_form_kind_event": {"cs": "Události (v časovém pořadí)", "en": "Events (in chronological order)"},
    "edit_form_kind_status": {"cs": "Stav v čase", "en": "Status over time"},
    "edit_form_kind_person": {"cs": "Osoby", "en": "People"},
    "edit_form_kind_post": {"cs": "Funkce", "en": "Offices"},
    "edit_form_kind_participation": {"cs": "Účasti osob na událostech", "en": "Who took part in events"},
    "edit_form_kind_document": {"cs": "Dokumenty", "en": "Documents"},
    "edit_form_kind_place": {"cs": "Místa", "en": "Places"},
    "edit_form_areas": {"cs": "Oblasti spolupráce", "en": "Cooperation areas"},
    "edit_form_areas_hint": {"cs": "Oblasti se upravují u dohody nebo události, která je uvádí.",
                             "en": "Areas are edited with the agreement or event that names them."},
    "edit_form_none": {"cs": "Zatím nic.", "en": "Nothing yet."},
    "edit_form_new_title": {"cs": "Nový záznam", "en": "New record"},
    "edit_form_edit_title": {"cs": "Úprava záznamu", "en": "Editing a record"},
    "edit_form_loading": {"cs": "Formulář se načítá…", "en": "Loading the form…"},
    "edit_form_message": {"cs": "Popis změny (co a podle čeho jste změnili)",
                          "en": "Description of the change (what you changed, and from which source)"},
    "edit_form_save": {"cs": "Uložit", "en": "Save"},
    "edit_form_text_language": {"cs": "jazyk textu", "en": "language of the text"},
    "edit_form_choose": {"cs": "— vyberte —", "en": "— choose —"},
    "edit_form_add": {"cs": "Přidat", "en": "Add"},
    "edit_form_remove": {"cs": "Odebrat", "en": "Remove"},
    "edit_form_problems": {"cs": "Záznam zatím nelze uložit:", "en": "The record cannot be saved yet:"},
    "edit_form_no_problems": {"cs": "Kontrola nenašla žádný problém.", "en": "The check found no problem."},
    "edit_form_saved_new": {"cs": "Další změny tohoto záznamu dělejte přes Upravit na stránce partnerství.",
                           "en": "Make further changes to this record with Edit on the partnership's page."},
    "edit_form_only_notes": {
        "cs": "Kontrola nenašla žádnou chybu; záznam lze uložit. U polí jsou poznámky, co zdroj možná neuvádí.",
        "en": "The check found no error; the record can be saved. Notes at the fields say what the source may not give."},
    "edit_form_notes": {"cs": "Poznámky (uložení nebrání):", "en": "Notes (they do not keep the record from being saved):"},
    "edit_form_note": {"cs": "Poznámka:", "en": "Note:"},
    "edit_form_conflict": {
        "cs": "Soubor partnerství mezitím změnil někdo jiný. Níže je rozdíl; načtěte stránku znovu a své změny "
              "zadejte ještě jednou.",
        "en": "Someone else changed the partnership's file in the meantime. The difference is below; reload the "
              "page and reapply your changes.",
    },
    "edit_form_saved": {"cs": "Uloženo. Změna zatím není zveřejněná: zkontrolujte ji a zveřejněte v přehledu změn.",
                        "en": "Saved. The change is not public yet: review and publish it in the list of changes."},
    "edit_form_changes": {"cs": "Přehled změn", "en": "List of changes"},
    "edit_form_failed": {"cs": "Uložení se nepodařilo:", "en": "Saving failed:"},
    "edit_form_back": {"cs": "Zpět na partnerství", "en": "Back to the partnership"},
}


def current_language() -> str:
    """The language of this request's page: ?lang=, else the cookie, else Accept-Language, else English."""
    for candidate in (request.args.get("lang"), request.cookies.get(COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return request.accept_languages.best_match(LANGUAGES, default="en")


def words(language: str) -> dict[str, str]:
    """Every word of the pages in `language`."""
    return {key: texts[language] for key, texts in WORDS.items()}


def remember_language(response: Response) -> None:
    """Keep a language chosen with ?lang= in a cookie for the next pages.

    Such a response is not stored by caches: a cached copy would not set the cookie again.
    """
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        response.set_cookie(COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax")
        response.headers["Cache-Control"] = "private, no-cache"
