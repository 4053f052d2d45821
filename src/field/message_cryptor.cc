#include "piicrypt/message_cryptor.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/reflection.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "piicrypt/options.pb.h"
#include "piicrypt/status_macros.h"
#include "src/field/policy_internal.h"

namespace piicrypt {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

struct PiiPlan {
  const FieldDescriptor* field;
  std::string rule;  // the FieldCryptor field (CONTEXT)
  bool binary;       // bytes: binary form
  // Bound and authenticated (randomized or deterministic): a value inside a repeated
  // field is bound to its position as well as to the record (Records::bound).
  bool positional;
};

// The record of the fields of a message: `plain` is the record id; `bound` adds the path
// of repeated elements from the message holding the record id down to here, each step a
// NUL byte (refused in record ids), the field's name and the element's index
// ("1001\0items[2]"). Equal to `plain` outside repeated fields.
struct Records {
  std::string plain;
  std::string bound;

  Records Element(const FieldDescriptor* field, int index) const {
    return Records{plain,
                   absl::StrCat(bound, absl::string_view("\0", 1), field->name(), "[", index, "]")};
  }
};

// What to do in one message type.
struct TypePlan {
  const FieldDescriptor* record_id = nullptr;
  std::vector<PiiPlan> pii;
  std::vector<const FieldDescriptor*> nested;  // message-typed fields to descend into
};

absl::Status PlanError(const FieldDescriptor* field, absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("message field ", field->full_name(), ": ", problem));
}

// A pending change: applied only once every field succeeded.
struct Write {
  Message* message;
  const FieldDescriptor* field;
  int index;  // -1: singular
  std::string value;
};

enum class Op { kEncrypt, kDecrypt, kRedact };

}  // namespace

struct MessageCryptor::Rep {
  const Descriptor* descriptor = nullptr;
  absl::flat_hash_map<const Descriptor*, TypePlan> plans;
  std::unique_ptr<FieldCryptor> cryptor;

  absl::Status BuildPlans(const Descriptor* type, const Policy& policy,
                          std::vector<FieldRule>& inline_rules) {
    if (plans.contains(type)) return absl::OkStatus();
    TypePlan& plan = plans[type];  // inserted first: recursive types end here
    TypePlan built;
    for (int i = 0; i < type->field_count(); ++i) {
      const FieldDescriptor* fd = type->field(i);
      const auto& options = fd->options();
      if (options.GetExtension(piicrypt::record_id)) {
        if (fd->is_repeated()) return PlanError(fd, "a record id cannot be repeated");
        switch (fd->cpp_type()) {
          case FieldDescriptor::CPPTYPE_STRING:
          case FieldDescriptor::CPPTYPE_INT32:
          case FieldDescriptor::CPPTYPE_INT64:
          case FieldDescriptor::CPPTYPE_UINT32:
          case FieldDescriptor::CPPTYPE_UINT64:
            break;
          default:
            return PlanError(fd, "a record id must be a string or an integer");
        }
        if (built.record_id != nullptr) return PlanError(fd, "a second record id in the message");
        built.record_id = fd;
      }
      if (options.HasExtension(piicrypt::pii)) {
        const PiiField& marked = options.GetExtension(piicrypt::pii);
        if (fd->cpp_type() != FieldDescriptor::CPPTYPE_STRING) {
          return PlanError(fd, "only string and bytes fields can be marked PII");
        }
        if (fd->is_map()) return PlanError(fd, "map fields cannot be marked PII");
        const bool binary = fd->type() == FieldDescriptor::TYPE_BYTES;
        std::string rule_name;
        const FieldRule* rule = nullptr;
        if (marked.has_rule()) {
          rule = policy.Find(marked.rule());
          if (rule == nullptr) {
            return absl::NotFoundError(absl::StrCat("message field ", fd->full_name(), ": rule \"",
                                                    marked.rule(), "\" is not in the policy"));
          }
          rule_name = marked.rule();
        } else if (marked.has_inline_()) {
          auto converted = internal::RuleFromProto(marked.inline_(), fd->full_name());
          if (!converted.ok()) return converted.status();
          rule_name = converted->name;
          inline_rules.push_back(*std::move(converted));
          rule = &inline_rules.back();
        } else {
          return PlanError(fd, "(piicrypt.pii) needs a rule name or an inline rule");
        }
        if (binary && rule->mode == FieldMode::kFormatPreserving) {
          return PlanError(fd, "a bytes field cannot be format-preserving");
        }
        if (rule->format_preserving.has_value() &&
            !rule->format_preserving->key_version_column.empty()) {
          return PlanError(fd, absl::StrCat("rule \"", rule_name,
                                            "\" keeps each value's key in the key-version column ",
                                            rule->format_preserving->key_version_column,
                                            ", which a message does not have; pin its key_id"));
        }
        const bool positional = rule->bind_record && (rule->mode == FieldMode::kRandomized ||
                                                      rule->mode == FieldMode::kDeterministic);
        built.pii.push_back(PiiPlan{fd, std::move(rule_name), binary, positional});
      } else if (fd->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        built.nested.push_back(fd);
      }
    }
    plan = std::move(built);
    // Descend after `plan` is complete: the map may rehash while we recurse.
    std::vector<const Descriptor*> children;
    for (const FieldDescriptor* fd : plans[type].nested) children.push_back(fd->message_type());
    for (const Descriptor* child : children) {
      PIICRYPT_RETURN_IF_ERROR(BuildPlans(child, policy, inline_rules));
    }
    return absl::OkStatus();
  }

  // The record id, or "" when unset: proto3 cannot tell an unset integer from 0, so an
  // integer id of 0 counts as missing too.
  static std::string RecordOf(const Message& m, const FieldDescriptor* fd) {
    const Reflection* r = m.GetReflection();
    if (fd->has_presence() && !r->HasField(m, fd)) return std::string();
    if (fd->cpp_type() != FieldDescriptor::CPPTYPE_STRING && !fd->has_presence() &&
        !r->HasField(m, fd)) {
      return std::string();
    }
    switch (fd->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        return r->GetString(m, fd);
      case FieldDescriptor::CPPTYPE_INT32:
        return absl::StrCat(r->GetInt32(m, fd));
      case FieldDescriptor::CPPTYPE_INT64:
        return absl::StrCat(r->GetInt64(m, fd));
      case FieldDescriptor::CPPTYPE_UINT32:
        return absl::StrCat(r->GetUInt32(m, fd));
      default:
        return absl::StrCat(r->GetUInt64(m, fd));
    }
  }

  absl::StatusOr<std::optional<std::string>> Decrypt(const PiiPlan& p, absl::string_view value,
                                                     absl::string_view record) const {
    return p.binary ? cryptor->DecryptBinary(p.rule, value, record)
                    : cryptor->Decrypt(p.rule, value, record);
  }

  absl::StatusOr<std::string> Apply(Op op, const PiiPlan& p, absl::string_view value,
                                    const Records& records) const {
    const bool positional =
        p.positional && !records.plain.empty() && records.bound != records.plain;
    const std::string& record = positional ? records.bound : records.plain;
    absl::StatusOr<std::optional<std::string>> out;
    switch (op) {
      case Op::kEncrypt:
        out = p.binary ? cryptor->EncryptBinary(p.rule, value, record)
                       : cryptor->Encrypt(p.rule, value, record);
        break;
      case Op::kDecrypt:
        out = Decrypt(p, value, record);
        // A value written without its position (before elements were bound to theirs)
        // still decrypts, at any position; it is bound at its next encryption.
        if (positional && absl::IsInvalidArgument(out.status())) {
          auto unpositioned = Decrypt(p, value, records.plain);
          if (unpositioned.ok()) out = std::move(unpositioned);
        }
        break;
      case Op::kRedact:
        if (p.binary) return std::string("***");
        out = cryptor->Mask(p.rule, value);
        break;
    }
    if (!out.ok()) {
      return absl::Status(out.status().code(),
                          absl::StrCat(p.field->full_name(), ": ", out.status().message()));
    }
    return **std::move(out);
  }

  absl::Status Walk(Op op, Message& m, Records records, std::vector<Write>& writes) const {
    auto it = plans.find(m.GetDescriptor());
    if (it == plans.end()) return absl::InternalError("message type without a plan");
    const TypePlan& plan = it->second;
    const Reflection* r = m.GetReflection();
    if (plan.record_id != nullptr) {
      records.plain = RecordOf(m, plan.record_id);
      records.bound = records.plain;
      if (records.plain.find('\0') != std::string::npos) {
        return PlanError(plan.record_id, "a record id cannot contain a NUL byte");
      }
    }
    std::string scratch;
    for (const PiiPlan& p : plan.pii) {
      if (p.field->is_repeated()) {
        const int n = r->FieldSize(m, p.field);
        for (int i = 0; i < n; ++i) {
          const std::string& value = r->GetRepeatedStringReference(m, p.field, i, &scratch);
          PIICRYPT_ASSIGN_OR_RETURN(std::string out,
                                    Apply(op, p, value, records.Element(p.field, i)));
          writes.push_back(Write{&m, p.field, i, std::move(out)});
        }
      } else if (p.field->has_presence() ? r->HasField(m, p.field)
                                         : !r->GetStringReference(m, p.field, &scratch).empty()) {
        // Without presence (proto3 singular), unset and empty are one state: left as is.
        const std::string& value = r->GetStringReference(m, p.field, &scratch);
        PIICRYPT_ASSIGN_OR_RETURN(std::string out, Apply(op, p, value, records));
        writes.push_back(Write{&m, p.field, -1, std::move(out)});
      }
    }
    for (const FieldDescriptor* fd : plan.nested) {
      if (fd->is_repeated()) {
        const int n = r->FieldSize(m, fd);
        for (int i = 0; i < n; ++i) {
          PIICRYPT_RETURN_IF_ERROR(
              Walk(op, *r->MutableRepeatedMessage(&m, fd, i), records.Element(fd, i), writes));
        }
      } else if (r->HasField(m, fd)) {
        PIICRYPT_RETURN_IF_ERROR(Walk(op, *r->MutableMessage(&m, fd), records, writes));
      }
    }
    return absl::OkStatus();
  }

  absl::Status Run(Op op, Message& m) const {
    if (m.GetDescriptor() != descriptor) {
      return absl::InvalidArgumentError(absl::StrCat("MessageCryptor of ", descriptor->full_name(),
                                                     " given a ", m.GetDescriptor()->full_name()));
    }
    std::vector<Write> writes;
    PIICRYPT_RETURN_IF_ERROR(Walk(op, m, Records(), writes));
    for (Write& w : writes) {
      const Reflection* r = w.message->GetReflection();
      if (w.index < 0) {
        r->SetString(w.message, w.field, std::move(w.value));
      } else {
        r->SetRepeatedString(w.message, w.field, w.index, std::move(w.value));
      }
    }
    return absl::OkStatus();
  }
};

MessageCryptor::MessageCryptor(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
MessageCryptor::~MessageCryptor() = default;

absl::StatusOr<std::unique_ptr<MessageCryptor>> MessageCryptor::Create(
    const Keyset& keyset, const Policy& policy, const Descriptor* descriptor) {
  if (descriptor == nullptr) return absl::InvalidArgumentError("no message descriptor");
  auto rep = std::make_unique<Rep>();
  rep->descriptor = descriptor;
  std::vector<FieldRule> inline_rules;
  PIICRYPT_RETURN_IF_ERROR(rep->BuildPlans(descriptor, policy, inline_rules));
  std::vector<FieldRule> rules(policy.rules().begin(), policy.rules().end());
  for (FieldRule& rule : inline_rules) rules.push_back(std::move(rule));
  PIICRYPT_ASSIGN_OR_RETURN(Policy combined, Policy::Create(std::move(rules)));
  PIICRYPT_ASSIGN_OR_RETURN(rep->cryptor, FieldCryptor::Create(keyset, combined));
  return std::unique_ptr<MessageCryptor>(new MessageCryptor(std::move(rep)));
}

absl::Status MessageCryptor::EncryptInPlace(Message& message) const {
  return rep_->Run(Op::kEncrypt, message);
}

absl::Status MessageCryptor::DecryptInPlace(Message& message) const {
  return rep_->Run(Op::kDecrypt, message);
}

absl::StatusOr<std::unique_ptr<Message>> MessageCryptor::Redact(const Message& message) const {
  std::unique_ptr<Message> copy(message.New());
  copy->CopyFrom(message);
  PIICRYPT_RETURN_IF_ERROR(rep_->Run(Op::kRedact, *copy));
  return copy;
}

const FieldCryptor& MessageCryptor::field_cryptor() const { return *rep_->cryptor; }

}  // namespace piicrypt
