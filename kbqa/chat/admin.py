from django.contrib import admin

from kbqa.chat.models import Conversation, Message


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ("role", "content", "refused", "error", "created_at")
    readonly_fields = fields
    can_delete = False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("title", "user", "created_at", "updated_at")
    search_fields = ("title", "user__username")
    inlines = [MessageInline]

    def has_view_permission(self, request, obj=None) -> bool:
        """Other people's answers quote documents of any collection: superusers only (they read
        every collection). A review page for others must show `messages_visible(user=reviewer)`."""
        return request.user.is_active and request.user.is_superuser

    has_module_permission = has_view_permission
