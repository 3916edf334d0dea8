package dossier

import (
	"fmt"

	"github.com/aiskao/aiskao/dossier/service"
)

// Describe says what an event did, in Bulgarian and English, for the
// journal of actions the regulation asks for and for people reading a
// dossier's history. It names documents, stages and tasks by their ids and
// holds no personal data.
func Describe(e Event) service.Text {
	t := func(bg, en string, args ...any) service.Text {
		return service.Text{BG: fmt.Sprintf(bg, args...), EN: fmt.Sprintf(en, args...)}
	}
	switch p := e.Data.(type) {
	case *Opened:
		return t("Открита преписка %s по услуга %s (версия %d), заявена чрез %s, срок %s.", "Dossier %s opened for service %s (version %d), applied for through %s, due %s.",
			e.Dossier, p.Service, p.Version, p.Application.Channel, p.Deadline)
	case *DocumentFiled:
		sec := map[Section]string{Official: "официалния", Internal: "вътрешния"}[p.Section]
		return service.Text{
			BG: fmt.Sprintf("Документ %s (%s) заведен в %s раздел.", p.Document.ID, p.Document.Kind, sec),
			EN: fmt.Sprintf("Document %s (%s) filed in the %s section.", p.Document.ID, p.Document.Kind, p.Section),
		}
	case *StageStarted:
		if p.Due != nil {
			return t("Започнат етап %s, срок %s.", "Stage %s started, due %s.", p.Stage, *p.Due)
		}
		return t("Започнат етап %s.", "Stage %s started.", p.Stage)
	case *TaskCreated:
		return t("Задача %s от етап %s възложена на %s.", "Task %s of stage %s given to %s.", p.Task, p.Stage, p.Assignee)
	case *SystemTaskRequested:
		return t("Поискан по служебен път %s (%s%s).", "Asked ex officio for %s (%s%s).", p.Item, p.Operation, p.EIK)
	case *TaskAssigned:
		return t("Задача %s възложена на %s.", "Task %s given to %s.", p.Task, p.Assignee)
	case *TaskCompleted:
		return t("Задача %s изпълнена.", "Task %s done.", p.Task)
	case *StageCompleted:
		return t("Етап %s приключен.", "Stage %s done.", p.Stage)
	case *ItemCompleted:
		if p.Outcome == Unavailable {
			return t("За %s няма данни.", "No data for %s.", p.Item)
		}
		return t("Получен %s (документ %s).", "Received %s (document %s).", p.Item, p.Document)
	case *IrregularityNotified:
		return t("Уведомление за нередовност %s, срок за отстраняване %s.", "Irregularity %s notified, to be removed by %s.", p.ID, p.Due)
	case *IrregularityAnswered:
		return t("Нередовност %s отстранена.", "Irregularity %s answered.", p.ID)
	case *Suspended:
		if p.Reason == ForAuthority {
			return t("Преписката е спряна до произнасяне на орган с ЕИК %s.", "Dossier suspended until the authority %s answers.", p.Authority)
		}
		return t("Преписката е спряна до отстраняване на нередовност %s.", "Dossier suspended until irregularity %s is answered.", p.Irregularity)
	case *Resumed:
		return t("Преписката е възобновена, нов срок %s.", "Dossier resumed, now due %s.", p.Deadline)
	case *FeePaid:
		return t("Платена такса %s (%s).", "Fee of %s paid (%s).", p.Amount, p.Reference)
	case *ResultIssued:
		if p.Outcome == Refused {
			return t("Издаден отказ (документ %s).", "Refusal issued (document %s).", p.Document)
		}
		return t("Издаден резултат (документ %s).", "Result issued (document %s).", p.Document)
	case *ResultDelivered:
		return t("Резултатът е връчен: %s %s.", "Result delivered: %s %s.", p.Way, p.Reference)
	case *DeadlineNear:
		return t("Наближава срок (%s %s): %s.", "Deadline near (%s %s): %s.", p.Kind, p.Ref, p.Due)
	case *DeadlineMissed:
		return t("Изтекъл срок (%s %s): %s.", "Deadline missed (%s %s): %s.", p.Kind, p.Ref, p.Due)
	case *Closed:
		return t("Преписката е приключена: %s.", "Dossier closed: %s.", p.Reason)
	}
	return t("Събитие %s.", "Event %s.", e.Type)
}
