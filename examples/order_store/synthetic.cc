#include "synthetic.h"

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace order_store {
namespace {

struct Name {
  const char* native;
  const char* ascii;  // for e-mail addresses
};

// One country's way of naming people, numbering phones and writing addresses. In phone and
// postcode patterns, 'N' is a random digit, 'M' a random digit from 1 to 8 (phone patterns
// only; it keeps numbers inside the ranges in use) and 'A' a random upper-case letter.
struct Locale {
  std::vector<Name> given;
  std::vector<Name> family;
  bool family_first;
  std::vector<const char*> phone_patterns;
  std::vector<const char*> streets;
  std::vector<const char*> towns;
  std::vector<const char*> domains;
  // Lays out one address from a street, house number, town and postcode pattern.
  enum class Layout { kUk, kUs, kDe, kFr, kEs, kPl, kSe, kJp, kIn, kBr, kAu, kGr } layout;
  const char* postcode;
};

const std::vector<Locale>& Locales() {
  static const auto* locales = new std::vector<Locale>{
      {{{"Oliver", "oliver"},
        {"Amelia", "amelia"},
        {"Siobhán", "siobhan"},
        {"Harry", "harry"},
        {"Isla", "isla"},
        {"Rhys", "rhys"},
        {"Priya", "priya"},
        {"Zoë", "zoe"}},
       {{"Smith", "smith"},
        {"O'Brien", "obrien"},
        {"Jones", "jones"},
        {"Taylor", "taylor"},
        {"Brown", "brown"},
        {"Ní Bhriain", "nibhriain"},
        {"Patel", "patel"},
        {"Evans", "evans"}},
       false,
       {"+44 20 7946 0NNN", "+44 7400 NNNNNN", "+44 7830 NNNNNN", "+44 161 496 0NNN"},
       {"High Street", "Station Road", "Church Lane", "Victoria Road", "Mill Lane"},
       {"London", "Manchester", "Bristol", "Leeds", "Cardiff", "Norwich"},
       {"gmail.com", "outlook.com", "btinternet.com", "yahoo.co.uk"},
       Locale::Layout::kUk,
       "AAN NAA"},
      {{{"James", "james"},
        {"Olivia", "olivia"},
        {"Mateo", "mateo"},
        {"Aaliyah", "aaliyah"},
        {"Ethan", "ethan"},
        {"Chloé", "chloe"},
        {"DeShawn", "deshawn"},
        {"Mei", "mei"}},
       {{"Johnson", "johnson"},
        {"Williams", "williams"},
        {"García", "garcia"},
        {"Nguyen", "nguyen"},
        {"Miller", "miller"},
        {"Washington", "washington"},
        {"Kowalski", "kowalski"},
        {"Chen", "chen"}},
       false,
       {"+1 (415) 555-01NN", "+1 212-555-01NN", "+1 (617) 555-01NN", "+1 312 555 01NN",
        "+1 (206) 555-01NN", "+1 512-555-01NN"},
       {"Maple Avenue", "Oak Street", "Sunset Boulevard", "Elm Drive", "Washington Street"},
       {"Springfield, IL", "Portland, OR", "Austin, TX", "Boston, MA", "Seattle, WA"},
       {"gmail.com", "yahoo.com", "icloud.com", "hotmail.com"},
       Locale::Layout::kUs,
       "NNNNN"},
      {{{"Jürgen", "juergen"},
        {"Lena", "lena"},
        {"Björn", "bjoern"},
        {"Käthe", "kaethe"},
        {"Lukas", "lukas"},
        {"Hannah", "hannah"},
        {"Ömer", "oemer"},
        {"Sophie", "sophie"}},
       {{"Müller", "mueller"},
        {"Schmidt", "schmidt"},
        {"Weiß", "weiss"},
        {"Schäfer", "schaefer"},
        {"Becker", "becker"},
        {"Yılmaz", "yilmaz"},
        {"Hoffmann", "hoffmann"},
        {"Groß", "gross"}},
       false,
       {"+49 30 NNNNNNNN", "+49 151 NNNNNNNN", "+49 89 NNNNNNN"},
       {"Hauptstraße", "Schillerstraße", "Gartenweg", "Bahnhofstraße", "Lindenallee"},
       {"Berlin", "München", "Köln", "Hamburg", "Düsseldorf"},
       {"web.de", "gmx.de", "t-online.de", "posteo.de"},
       Locale::Layout::kDe,
       "NNNNN"},
      {{{"François", "francois"},
        {"Élodie", "elodie"},
        {"Théo", "theo"},
        {"Inès", "ines"},
        {"Gaëlle", "gaelle"},
        {"Karim", "karim"},
        {"Noémie", "noemie"},
        {"Jérôme", "jerome"}},
       {{"Dubois", "dubois"},
        {"Lefèvre", "lefevre"},
        {"Moreau", "moreau"},
        {"Benali", "benali"},
        {"Girard", "girard"},
        {"Roux", "roux"},
        {"Fontaine", "fontaine"},
        {"Leclerc", "leclerc"}},
       false,
       {"+33 6 1N NN NN NN", "+33 6 2N NN NN NN", "+33 1 4N NN NN NN"},
       {"rue de la Paix", "avenue Victor Hugo", "boulevard Voltaire", "rue des Écoles"},
       {"Paris", "Lyon", "Marseille", "Toulouse", "Nantes"},
       {"orange.fr", "free.fr", "laposte.net", "gmail.com"},
       Locale::Layout::kFr,
       "NNNNN"},
      {{{"José", "jose"},
        {"María", "maria"},
        {"Sofía", "sofia"},
        {"Íñigo", "inigo"},
        {"Lucía", "lucia"},
        {"Álvaro", "alvaro"}},
       {{"Núñez", "nunez"},
        {"Fernández", "fernandez"},
        {"Martínez", "martinez"},
        {"Peña", "pena"},
        {"Ibáñez", "ibanez"},
        {"Ortega", "ortega"}},
       false,
       {"+34 6NN NN NN NN", "+34 91 NNN NN NN"},
       {"Calle Mayor", "Avenida de la Constitución", "Calle del Sol", "Paseo de Gracia"},
       {"Madrid", "Sevilla", "Barcelona", "Valencia", "Bilbao"},
       {"gmail.com", "hotmail.es", "telefonica.net"},
       Locale::Layout::kEs,
       "NNNNN"},
      {{{"Łukasz", "lukasz"},
        {"Małgorzata", "malgorzata"},
        {"Wojciech", "wojciech"},
        {"Agnieszka", "agnieszka"},
        {"Paweł", "pawel"},
        {"Zofia", "zofia"}},
       {{"Wiśniewski", "wisniewski"},
        {"Dąbrowska", "dabrowska"},
        {"Lewandowski", "lewandowski"},
        {"Wójcik", "wojcik"},
        {"Kamińska", "kaminska"},
        {"Zieliński", "zielinski"}},
       false,
       {"+48 5NN NNN NNN", "+48 22 NNN NN NN"},
       {"Marszałkowska", "Piotrkowska", "Długa", "Świętojańska"},
       {"Warszawa", "Kraków", "Łódź", "Gdańsk", "Wrocław"},
       {"wp.pl", "onet.pl", "interia.pl", "gmail.com"},
       Locale::Layout::kPl,
       "NN-NNN"},
      {{{"Søren", "soren"},
        {"Åsa", "asa"},
        {"Märta", "marta"},
        {"Linnéa", "linnea"},
        {"Erik", "erik"},
        {"Björk", "bjork"}},
       {{"Ångström", "angstrom"},
        {"Lindqvist", "lindqvist"},
        {"Öberg", "oberg"},
        {"Johansson", "johansson"},
        {"Sjöberg", "sjoberg"},
        {"Nyström", "nystrom"}},
       false,
       {"+46 70 NNN NN NN", "+46 8 NNN NNN NN"},
       {"Storgatan", "Kungsgatan", "Drottninggatan", "Skolvägen"},
       {"Stockholm", "Göteborg", "Malmö", "Uppsala"},
       {"telia.com", "gmail.com", "outlook.com"},
       Locale::Layout::kSe,
       "NNN NN"},
      {{{"美咲", "misaki"},
        {"翔太", "shota"},
        {"陽菜", "hina"},
        {"大輝", "daiki"},
        {"結衣", "yui"}},
       {{"佐藤", "sato"},
        {"鈴木", "suzuki"},
        {"高橋", "takahashi"},
        {"田中", "tanaka"},
        {"渡辺", "watanabe"}},
       true,
       {"+81 90-MNNN-NNNN", "+81 3-MNNN-NNNN"},
       {"千代田", "渋谷", "新宿", "港", "中央"},
       {"東京都", "大阪府", "京都府"},
       {"docomo.ne.jp", "yahoo.co.jp", "gmail.com"},
       Locale::Layout::kJp,
       "NNN-NNNN"},
      {{{"Aarav", "aarav"},
        {"Ananya", "ananya"},
        {"Vikram", "vikram"},
        {"Lakshmi", "lakshmi"},
        {"Rohan", "rohan"},
        {"Diya", "diya"}},
       {{"Sharma", "sharma"},
        {"Iyer", "iyer"},
        {"Reddy", "reddy"},
        {"Banerjee", "banerjee"},
        {"Gupta", "gupta"},
        {"Nair", "nair"}},
       false,
       {"+91 98NNN NNNNN", "+91 70NNN NNNNN"},
       {"MG Road", "Linking Road", "Park Street", "Brigade Road"},
       {"Mumbai", "Bengaluru", "Kolkata", "Chennai", "Pune"},
       {"gmail.com", "rediffmail.com", "yahoo.in"},
       Locale::Layout::kIn,
       "NNNNNN"},
      {{{"João", "joao"},
        {"Ana Luíza", "analuiza"},
        {"Gonçalo", "goncalo"},
        {"Beatriz", "beatriz"},
        {"Thiago", "thiago"},
        {"Letícia", "leticia"}},
       {{"da Silva", "dasilva"},
        {"Gonçalves", "goncalves"},
        {"Araújo", "araujo"},
        {"Conceição", "conceicao"},
        {"Pereira", "pereira"},
        {"Simões", "simoes"}},
       false,
       {"+55 11 9NNNN-NNNN", "+55 21 9NNNN-NNNN"},
       {"Rua Augusta", "Avenida Paulista", "Rua das Flores", "Rua São Bento"},
       {"São Paulo - SP", "Rio de Janeiro - RJ", "Curitiba - PR", "Belo Horizonte - MG"},
       {"uol.com.br", "gmail.com", "bol.com.br"},
       Locale::Layout::kBr,
       "NNNNN-NNN"},
      {{{"Charlotte", "charlotte"},
        {"Jack", "jack"},
        {"Matilda", "matilda"},
        {"Lachlan", "lachlan"},
        {"Ngaio", "ngaio"},
        {"Kai", "kai"}},
       {{"Wilson", "wilson"},
        {"MacKenzie", "mackenzie"},
        {"Nguyễn", "nguyen"},
        {"Thompson", "thompson"},
        {"Papadopoulos", "papadopoulos"},
        {"Walker", "walker"}},
       false,
       {"+61 412 NNN NNN", "+61 2 5550 NNNN", "+61 3 9NNN NNNN"},
       {"George Street", "Collins Street", "Queen Street", "Beach Road"},
       {"Sydney NSW", "Melbourne VIC", "Brisbane QLD", "Hobart TAS"},
       {"bigpond.com", "gmail.com", "optusnet.com.au"},
       Locale::Layout::kAu,
       "NNNN"},
      {{{"Δημήτρης", "dimitris"},
        {"Ελένη", "eleni"},
        {"Γιώργος", "giorgos"},
        {"Κατερίνα", "katerina"},
        {"Νίκος", "nikos"}},
       {{"Παπαδόπουλος", "papadopoulos"},
        {"Οικονόμου", "oikonomou"},
        {"Γεωργίου", "georgiou"},
        {"Βασιλείου", "vasileiou"}},
       false,
       {"+30 69N NNN NNNN", "+30 21N NNN NNNN"},
       {"Οδός Ερμού", "Λεωφόρος Αλεξάνδρας", "Οδός Πανεπιστημίου"},
       {"Αθήνα", "Θεσσαλονίκη", "Πάτρα"},
       {"otenet.gr", "gmail.com", "yahoo.gr"},
       Locale::Layout::kGr,
       "NNN NN"},
  };
  return *locales;
}

struct Product {
  const char* name;
  int64_t price_cents;
};

constexpr Product kCatalog[] = {
    {"Wireless earbuds", 4999},
    {"USB-C cable 2 m", 999},
    {"Running shoes", 8950},
    {"Merino wool jumper", 7900},
    {"Espresso machine", 24900},
    {"Ceramic mug set (4)", 2400},
    {"Yoga mat", 2995},
    {"LED desk lamp", 3450},
    {"Children's raincoat", 2799},
    {"Cast-iron skillet", 3900},
    {"Noise-cancelling headphones", 19900},
    {"Paperback: 'The Long Road'", 1099},
    {"Smartwatch strap", 1499},
    {"Organic coffee beans 1 kg", 2250},
    {"Bamboo bed sheets", 6900},
    {"Phone case", 1999},
    {"Garden hose 25 m", 3299},
    {"Board game: Harbour", 3499},
    {"Electric toothbrush", 5999},
    {"Backpack 30 l", 6499},
};

constexpr const char* kStores[] = {
    "London Oxford Street", "Manchester Arndale", "Berlin Alexanderplatz",
    "Paris La Défense",     "Madrid Gran Vía",    "Warszawa Złote Tarasy",
    "Sydney Pitt Street",   "São Paulo Paulista", "Tokyo Shinjuku",
};

}  // namespace

std::string FormatItems(const std::vector<LineItem>& items) {
  std::string out;
  for (const LineItem& item : items) {
    if (!out.empty()) out += "; ";
    char price[32];
    std::snprintf(price, sizeof(price), "%lld.%02lld",
                  static_cast<long long>(item.unit_price_cents / 100),
                  static_cast<long long>(item.unit_price_cents % 100));
    absl::StrAppend(&out, item.quantity, " x ", item.product, " @ ", price);
  }
  return out;
}

SyntheticShop::SyntheticShop(uint64_t seed)
    : rng_(seed), clock_unix_(1709280000) /* 2024-03-01T08:00:00Z */ {}

std::string SyntheticShop::Digits(int count) {
  std::string out;
  for (int i = 0; i < count; ++i) out.push_back(static_cast<char>('0' + Below(10)));
  return out;
}

Customer SyntheticShop::NewCustomer() {
  const std::vector<Locale>& locales = Locales();
  const Locale& loc = locales[Below(locales.size())];
  const Name& given = loc.given[Below(loc.given.size())];
  const Name& family = loc.family[Below(loc.family.size())];
  Customer c;
  if (loc.family_first) {
    c.name = absl::StrCat(family.native, " ", given.native);
  } else if (Chance(15)) {  // a middle initial
    c.name = absl::StrCat(given.native, " ", std::string(1, static_cast<char>('A' + Below(26))),
                          ". ", family.native);
  } else {
    c.name = absl::StrCat(given.native, " ", family.native);
  }

  // E-mail: one of the usual shapes, made unique with the customer's number, sometimes
  // typed with capitals (the blind index normalizes e-mail to lower case).
  std::string local;
  switch (Below(4)) {
    case 0:
      local = absl::StrCat(given.ascii, ".", family.ascii);
      break;
    case 1:
      local = absl::StrCat(std::string(1, given.ascii[0]), ".", family.ascii);
      break;
    case 2:
      local = absl::StrCat(given.ascii, "_", family.ascii);
      break;
    default:
      local = absl::StrCat(family.ascii, ".", given.ascii);
      break;
  }
  absl::StrAppend(&local, customers_.size() + 1);
  const char* domain = loc.domains[Below(loc.domains.size())];
  c.email = absl::StrCat(local, "@", domain);
  if (Chance(15)) {
    c.email[0] = absl::ascii_toupper(c.email[0]);
    const size_t at = c.email.find('@');
    c.email[at + 1] = absl::ascii_toupper(c.email[at + 1]);
  }

  const char* phone_pattern = loc.phone_patterns[Below(loc.phone_patterns.size())];
  for (const char* p = phone_pattern; *p != '\0'; ++p) {
    if (*p == 'N') {
      c.phone.push_back(static_cast<char>('0' + Below(10)));
    } else if (*p == 'M') {
      c.phone.push_back(static_cast<char>('1' + Below(8)));
    } else {
      c.phone.push_back(*p);
    }
  }

  auto address = [&] {
    const std::string street = loc.streets[Below(loc.streets.size())];
    const std::string town = loc.towns[Below(loc.towns.size())];
    const std::string number = std::to_string(1 + Below(240));
    std::string postcode;
    for (const char* p = loc.postcode; *p != '\0'; ++p) {
      if (*p == 'N') {
        postcode.push_back(static_cast<char>('0' + Below(10)));
      } else if (*p == 'A') {
        postcode.push_back(static_cast<char>('A' + Below(26)));
      } else {
        postcode.push_back(*p);
      }
    }
    switch (loc.layout) {
      case Locale::Layout::kUk:
        return absl::StrCat(number, " ", street, ", ", town, " ", postcode, ", United Kingdom");
      case Locale::Layout::kUs:
        return absl::StrCat(number, " ", street, ", Apt ", 1 + Below(40), ", ", town, " ", postcode,
                            ", USA");
      case Locale::Layout::kDe:
        return absl::StrCat(street, " ", number, ", ", postcode, " ", town, ", Deutschland");
      case Locale::Layout::kFr:
        return absl::StrCat(number, " ", street, ", ", postcode, " ", town, ", France");
      case Locale::Layout::kEs:
        return absl::StrCat(street, " ", number, ", ", 1 + Below(8), "º, ", postcode, " ", town,
                            ", España");
      case Locale::Layout::kPl:
        return absl::StrCat("ul. ", street, " ", number, "/", 1 + Below(60), ", ", postcode, " ",
                            town, ", Polska");
      case Locale::Layout::kSe:
        return absl::StrCat(street, " ", number, ", ", postcode, " ", town, ", Sverige");
      case Locale::Layout::kJp:
        return absl::StrCat("〒", postcode, " ", town, street, "区", 1 + Below(9), "-",
                            1 + Below(30), "-", number, ", 日本");
      case Locale::Layout::kIn:
        return absl::StrCat(number, ", ", street, ", ", town, " ", postcode, ", India");
      case Locale::Layout::kBr:
        return absl::StrCat(street, ", ", number, ", ", town, ", ", postcode, ", Brasil");
      case Locale::Layout::kAu:
        return absl::StrCat(number, " ", street, ", ", town, " ", postcode, ", Australia");
      case Locale::Layout::kGr:
        return absl::StrCat(street, " ", number, ", ", postcode, " ", town, ", Ελλάδα");
    }
    return std::string();
  };
  c.home_address = address();
  c.work_address = address();
  return c;
}

size_t SyntheticShop::PickCustomer(bool returning_orderer) {
  if (returning_orderer && !orderers_.empty()) return orderers_[Below(orderers_.size())];
  if (!customers_.empty() && Chance(30)) return Below(customers_.size());
  customers_.push_back(NewCustomer());
  return customers_.size() - 1;
}

Order SyntheticShop::NextOrder(int64_t id, bool returning_customer) {
  const size_t who = PickCustomer(returning_customer);
  orderers_.push_back(who);
  const Customer& c = customers_[who];
  Order o;
  o.id = id;
  clock_unix_ += 5 + static_cast<int64_t>(Below(240));
  o.placed_unix = clock_unix_;
  o.customer_name = c.name;
  o.email = c.email;
  o.phone = c.phone;
  o.delivery_address = Chance(20) ? c.work_address : c.home_address;
  o.billing_address = Chance(85) ? c.home_address : c.work_address;
  const int lines = 1 + static_cast<int>(Below(4));
  for (int i = 0; i < lines; ++i) {
    const Product& p = kCatalog[Below(sizeof(kCatalog) / sizeof(kCatalog[0]))];
    LineItem item{p.name, 1 + static_cast<int>(Below(3)), p.price_cents};
    o.total_cents += item.quantity * item.unit_price_cents;
    o.items.push_back(std::move(item));
  }
  return o;
}

Booking SyntheticShop::NextBooking(int64_t id) {
  const Customer& c = customers_[PickCustomer(false)];
  Booking b;
  b.id = id;
  b.customer_name = c.name;
  b.email = c.email;
  b.phone = c.phone;
  b.store = kStores[Below(sizeof(kStores) / sizeof(kStores[0]))];
  // Collection from tomorrow 10:00 to a week ahead, on the half hour.
  b.collect_unix = (clock_unix_ / 86400 + 1 + static_cast<int64_t>(Below(7))) * 86400 + 10 * 3600 +
                   static_cast<int64_t>(Below(18)) * 1800;

  // A made-up Visa or Mastercard number with a valid Luhn check digit.
  std::string digits = Chance(60) ? "4" : absl::StrCat(51 + Below(5));
  digits += Digits(15 - static_cast<int>(digits.size()));
  int sum = 0;
  for (size_t i = 0; i < digits.size(); ++i) {  // the check digit will follow: double from the end
    int d = digits[digits.size() - 1 - i] - '0';
    if (i % 2 == 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  digits.push_back(static_cast<char>('0' + (10 - sum % 10) % 10));
  for (size_t i = 0; i < digits.size(); i += 4) {
    if (i > 0) b.card_number.push_back(' ');
    b.card_number += digits.substr(i, 4);
  }
  return b;
}

}  // namespace order_store
